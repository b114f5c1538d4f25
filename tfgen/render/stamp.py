"""The no-op fast path: skip validate, compile and render when nothing they read has changed.

After a successful render, DIR/.tfgen/render-stamp.json records a digest of every input (the spec
and lock file bytes, the render options, tfgen's own code, templates and modules, botocore's Region
data) and the size, mtime, ctime and inode of every file tfgen wrote. When all of them match, a
re-render would write the same bytes, so it can stop before importing most of tfgen. Any mismatch,
a missing stamp, or a hand-edited file falls back to the full render, which compares bytes.

Size and mtime alone miss an edit that keeps the size and restores the mtime (`cp -p`, `rsync -a`,
`tar`, `touch -r`); the ctime changes on every write, rename and `utime` and cannot be set back
by user tools, and a file replaced by another has another inode. `render --check` never takes this
path: it compares every byte.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from tfgen import safeio
from tfgen.constants import LOCK_FILE, STATE_DIR
from tfgen.manifest import JOURNAL
from tfgen.spec import regions

STAMP = f"{STATE_DIR}/render-stamp.json"
_PACKAGE = Path(__file__).resolve().parent.parent


def _tree_fingerprint(roots: Iterable[Path]) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", ".terraform"))
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)  # noqa: PTH118 - os.* is 3x faster here
                st = os.stat(full)  # noqa: PTH116
                out.append((full, st.st_size, st.st_mtime_ns))
    return out


def inputs_digest(spec: Path, options: Sequence[str]) -> str | None:
    """Digest of everything a render reads; None if the spec cannot be read."""
    digest = hashlib.sha256()
    try:
        digest.update(spec.read_bytes())
    except OSError:
        return None
    lock = spec.with_name(LOCK_FILE)
    if lock.exists():
        digest.update(lock.read_bytes())
    endpoints = regions.endpoints_file()  # the Regions validation knows
    roots = [_PACKAGE, _PACKAGE.parent / "templates", _PACKAGE.parent / "modules"]
    fingerprint = {
        "spec": str(spec.resolve()),
        "options": list(options),
        "code": _tree_fingerprint(r for r in roots if r.is_dir()),
        "regions": [endpoints.stat().st_size, endpoints.stat().st_mtime_ns],
    }
    digest.update(json.dumps(fingerprint, sort_keys=True).encode())
    return digest.hexdigest()


def file_stat(st: os.stat_result) -> list[int]:
    """What the stamp records of one file (see the module docstring)."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _file_stats(
    root: Path, relpaths: Iterable[str], known: Mapping[str, list[int]] | None = None
) -> dict[str, list[int]]:
    out = {}
    base = str(root)
    for rel in relpaths:
        if known is not None and rel in known:
            out[rel] = known[rel]
            continue
        # lstat: a file replaced by a link is a change, whatever the link points to.
        out[rel] = file_stat(os.lstat(os.path.join(base, rel)))  # noqa: PTH118 - thousands
    return out


def write(
    root: Path,
    digest: str,
    relpaths: Iterable[str],
    messages: Sequence[str],
    known: Mapping[str, list[int]] | None = None,
) -> None:
    """Record `digest` and the files' stats; `known`: stats taken as the files were written
    (a stat that no longer matches only costs the next render its fast path)."""
    safeio.state_dir(root)  # run-time state, never committed (the runner writes the same)
    files = _file_stats(root, relpaths, known)
    data = {"inputs": digest, "files": files, "messages": list(messages)}
    safeio.replace(root / STAMP, json.dumps(data, sort_keys=True).encode())


def unchanged(root: Path, digest: str) -> list[str] | None:
    """The messages of the last render if nothing changed since it; None otherwise (also when
    an interrupted update left its journal: the full render finishes it)."""
    if os.path.lexists(root / JOURNAL):
        return None
    try:
        data = json.loads((root / STAMP).read_text())
        if data.get("inputs") != digest:
            return None
        files: dict[str, list[int]] = data["files"]
        if _file_stats(root, files) != files:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return list(data.get("messages", []))
