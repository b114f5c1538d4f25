"""Read the stacks tfgen rendered from `DIR/tfgen.manifest.json` (docs/architecture.md)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tfgen.run.errors import ManifestError
from tfgen.run.model import Manifest, Stack

MANIFEST = "tfgen.manifest.json"
SUPPORTED_VERSIONS = (1,)


def load_manifest(root: Path) -> Manifest:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path} not found: run `tfgen render` into {root} first") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a JSON object")
    version = data.get("manifest_version")
    if version not in SUPPORTED_VERSIONS:
        raise ManifestError(f"{path}: manifest_version {version!r} is not supported (want 1)")
    files = data.get("files", {})
    if not isinstance(files, dict):
        raise ManifestError(f"{path}: `files` must map paths to sha256")
    raw_stacks = data.get("stacks", [])
    if not isinstance(raw_stacks, list):
        raise ManifestError(f"{path}: `stacks` must be a list")
    stacks = tuple(_stack(path, i, raw) for i, raw in enumerate(raw_stacks))
    _check_unique(path, stacks)
    return Manifest(root=root, files={str(k): str(v) for k, v in files.items()}, stacks=stacks)


def _stack(path: Path, index: int, raw: Any) -> Stack:
    where = f"{path}: stacks[{index}]"
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: expected an object")
    try:
        stack = Stack(
            id=str(raw["id"]),
            path=str(raw["path"]),
            kind=str(raw["kind"]),
            phase=int(raw["phase"]),
            depends_on=tuple(str(d) for d in raw.get("depends_on", ())),
            modules=tuple(str(m) for m in raw.get("modules", ())),
            account=str(raw.get("account", "")),
            account_id=str(raw.get("account_id", "")),
            regions=tuple(str(r) for r in raw.get("regions", ())),
        )
    except KeyError as exc:
        raise ManifestError(f"{where}: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: {exc}") from None
    if Path(stack.path).is_absolute() or ".." in Path(stack.path).parts:
        raise ManifestError(f"{where}: path {stack.path!r} must stay inside the directory")
    return stack


def _check_unique(path: Path, stacks: Iterable[Stack]) -> None:
    seen: set[str] = set()
    for stack in stacks:
        if stack.id in seen:
            raise ManifestError(f"{path}: stack id {stack.id!r} appears twice")
        seen.add(stack.id)


def select(stacks: Sequence[Stack], patterns: Sequence[str]) -> tuple[Stack, ...]:
    """Stacks whose id matches any glob pattern (`prod/*`, `*/replication`); all when none."""
    if not patterns:
        return tuple(stacks)
    return tuple(s for s in stacks if any(fnmatch.fnmatchcase(s.id, p) for p in patterns))


def log_name(stack_id: str) -> str:
    return stack_id.replace("/", "__")
