"""A new, large tree rendered and written by two processes at once.

Rendering and writing thousands of stack files is CPU-bound Python; a second core halves it. Each
account's stacks depend only on that account, so the accounts are split in two: a forked child
renders and writes one half into the staging directory while this process does the other half
and the modules; the manifest goes in last and the staging directory is renamed into place, so the
tree still appears whole or not at all. Used only for a new tree (nothing to compare with), past
PARALLEL_MIN_ACCOUNTS, on a system with fork and more than one CPU, and only while this process
runs no other thread (a fork copies one thread; another's held lock would stay held forever).
"""

from __future__ import annotations

import os
import pickle
import shutil
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tfgen.errors import RenderError
from tfgen.render.layout import Stack, account_names, plan_accounts
from tfgen.render.resources import module_files
from tfgen.render.writer import (
    MANIFEST,
    MANIFEST_VERSION,
    Change,
    FileChange,
    SyncResult,
    manifest_text,
    sha256,
    staging_path,
)
from tfgen.state import DesiredState

PARALLEL_MIN_ACCOUNTS = 300
_Part = tuple[list[dict[str, Any]], dict[str, str]]  # manifest stacks, {relpath: sha256}


def worth_it(state: DesiredState) -> bool:
    return (
        len(state.accounts) >= PARALLEL_MIN_ACCOUNTS
        and hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
    )


def render_new_tree(
    state: DesiredState, root: Path, adopt: frozenset[str], generator: str
) -> SyncResult:
    names = account_names(state)
    half = len(names) // 2
    staging = staging_path(root)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: render and write the second half, report, exit at once
        os.close(read_fd)
        payload: tuple[str, Any]
        try:
            payload = ("ok", _write_part(plan_accounts(state, adopt, names[half:]), (), staging))
        except BaseException as exc:
            payload = ("error", f"{type(exc).__name__}: {exc}")
        with os.fdopen(write_fd, "wb") as out:
            pickle.dump(payload, out)
        os._exit(0)
    os.close(write_fd)
    try:
        try:
            mine = _write_part(plan_accounts(state, adopt, names[:half]), module_files(), staging)
        finally:
            with os.fdopen(read_fd, "rb") as inp:
                status, theirs = pickle.load(inp)
            os.waitpid(pid, 0)
        if status != "ok":
            raise RenderError(f"cannot write {root}: {theirs}; nothing was changed")
        stacks = sorted([*mine[0], *theirs[0]], key=lambda s: s["id"])
        files = dict(sorted({**mine[1], **theirs[1]}.items()))
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "generator": generator,
            "files": files,
            "stacks": stacks,
        }
        (staging / MANIFEST).write_text(manifest_text(manifest), encoding="utf-8")
        staging.replace(root)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SyncResult(
        tuple(FileChange(rel, Change.CREATE) for rel in files),
        (),
        (),
        (*files, MANIFEST),
        tuple(stacks),
    )


def _write_part(
    stacks: Sequence[Stack], extra: Iterable[tuple[str, bytes]], staging: Path
) -> _Part:
    base = str(staging)
    made: set[str] = set()
    hashes: dict[str, str] = {}

    def write(rel: str, data: bytes) -> None:
        parent = rel.rpartition("/")[0]
        if parent not in made:
            os.makedirs(os.path.join(base, parent), exist_ok=True)  # noqa: PTH103, PTH118
            made.add(parent)
        with open(os.path.join(base, rel), "wb") as handle:  # noqa: PTH118
            handle.write(data)
        hashes[rel] = sha256(data)

    for rel, data in extra:
        write(rel, data)
    for stack in stacks:
        for rel, text in stack.files.items():
            write(rel, text.encode())
    return [s.to_manifest() for s in stacks], hashes
