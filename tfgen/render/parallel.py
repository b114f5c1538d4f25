"""A new, large tree rendered and written by two processes at once.

Rendering and writing thousands of stack files is CPU-bound Python; a second core halves it. Each
account's stacks depend only on that account, so the accounts are cut into parts that a forked
child and this process take in turn, whichever is free, rendering and writing them into the
staging directory (this process also writes the modules); the manifest goes in last and the
staging directory is renamed into place, so the tree still appears whole or not at all. Used only
for a new tree (nothing to compare with), past PARALLEL_MIN_ACCOUNTS, on a system with fork and
more than one CPU, and only while this process runs no other thread (a fork copies one thread;
another's held lock would stay held forever).

The child never outlives this process: on Linux the kernel kills it when its parent dies
(PR_SET_PDEATHSIG), elsewhere it checks its parent between parts; and it always ends with
`os._exit`, never by unwinding into the CLI. The staging directory a killed render leaves (its pid
in the name) is removed by the next render (tfgen.render.writer.clean_leftovers).
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tfgen.errors import RenderError
from tfgen.forks import can_fork, die_with
from tfgen.manifest import MANIFEST, ManifestStack, encode, stack_row
from tfgen.render.layout import RenderedStack, account_names, planner
from tfgen.render.resources import module_files
from tfgen.render.writer import (
    Change,
    FileChange,
    SyncResult,
    install_tree,
    staging_dir,
    write_new_files,
)
from tfgen.state import DesiredState

PARALLEL_MIN_ACCOUNTS = 300
# the stacks written, their manifest lines by id, {relpath: sha256}, {relpath: the stamp's record}
_Part = tuple[list[ManifestStack], dict[str, str], dict[str, str], dict[str, list[int]]]
_CHUNK_MIN = 8  # accounts per part; at most 255 parts, each numbered by one byte


def worth_it(state: DesiredState) -> bool:
    return len(state.accounts) >= PARALLEL_MIN_ACCOUNTS and (os.cpu_count() or 1) > 1 and can_fork()


def render_new_tree(
    state: DesiredState, root: Path, adopt: frozenset[str], generator: str
) -> SyncResult:
    names = account_names(state)
    size = max(_CHUNK_MIN, -(-len(names) // 255))
    chunks = [names[i : i + size] for i in range(0, len(names), size)]
    plan = planner(state, adopt)
    try:
        staging = staging_dir(root)
    except OSError as exc:
        raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None
    # The parts' numbers wait in a pipe, one byte each: whichever process is free takes the next,
    # so both finish together however the parts differ in cost (a fixed half each did not).
    fds: list[int] = []
    try:
        queue, queue_end = os.pipe()
        fds += (queue, queue_end)
        os.write(queue_end, bytes(range(len(chunks))))
        os.close(fds.pop())
        read_fd, write_fd = os.pipe()
        fds += (read_fd, write_fd)
        parent = os.getpid()
        pid = os.fork()
    except OSError as exc:  # no pipe or no process to be had: nothing was written yet
        for fd in fds:
            os.close(fd)
        shutil.rmtree(staging, ignore_errors=True)
        raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None
    if pid == 0:  # the child: render and write parts until none is left, report, exit at once
        try:
            os.close(read_fd)
            die_with(parent)
            payload: tuple[str, Any]
            try:
                payload = ("ok", _write_parts(plan, chunks, queue, staging, (), parent))
            except BaseException as exc:
                payload = ("error", f"{type(exc).__name__}: {exc}")
            with os.fdopen(write_fd, "wb") as out:
                pickle.dump(payload, out)
        finally:
            os._exit(0)  # whatever happened: never run the parent's code, never write a crash log
    os.close(write_fd)
    try:
        try:
            mine = _write_parts(plan, chunks, queue, staging, module_files())
        finally:
            os.close(queue)
            with os.fdopen(read_fd, "rb") as inp:
                try:
                    status, theirs = pickle.load(inp)
                except (EOFError, pickle.UnpicklingError):
                    status, theirs = "error", "the second render process died"
            os.waitpid(pid, 0)
        if status != "ok":
            raise RenderError(f"cannot write {root}: {theirs}; nothing was changed")
        stacks = sorted([*mine[0], *theirs[0]], key=lambda s: s.id)
        files = dict(sorted({**mine[2], **theirs[2]}.items()))
        rows = {**mine[1], **theirs[1]}
        (staging / MANIFEST).write_bytes(encode(files, stacks, generator, rows))
        install_tree(staging, root)
        # a file at the top of the staging directory may be moved on its own: a new ctime
        written = {rel: st for rel, st in (*mine[3].items(), *theirs[3].items()) if "/" in rel}
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RenderError(f"cannot write {root}: {exc}; nothing was changed") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SyncResult(
        tuple(FileChange(rel, Change.CREATE) for rel in (*files, MANIFEST)),
        (*files, MANIFEST),
        tuple(stacks),
        written=written,
    )


def _write_parts(
    plan: Callable[[Sequence[str]], Sequence[RenderedStack]],
    chunks: Sequence[Sequence[str]],
    queue: int,
    staging: Path,
    extra: Iterable[tuple[str, bytes]],
    parent: int | None = None,
) -> _Part:
    """Render and write the parts taken from `queue` (and `extra` files) until it is empty; in
    the child (`parent` given), stop when the parent is gone."""
    entries: list[ManifestStack] = []
    rows: dict[str, str] = {}
    stats: dict[str, list[int]] = {}
    hashes = write_new_files(staging, extra, stats)
    while taken := os.read(queue, 1):
        if parent is not None and os.getppid() != parent:
            raise RuntimeError("the parent render is gone")
        stacks = plan(chunks[taken[0]])
        files = [(rel, text.encode()) for s in stacks for rel, text in s.files.items()]
        hashes.update(write_new_files(staging, files, stats))
        entries.extend(s.entry for s in stacks)
        rows.update((s.entry.id, stack_row(s.entry)) for s in stacks)
    return entries, rows, hashes, stats
