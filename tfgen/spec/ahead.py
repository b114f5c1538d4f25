"""A large spec read in a forked child while this process imports what comes next.

The child only reads: its result comes back through a pipe as plain data. This module imports
neither PyYAML nor the reader: the child imports them, so the parent never pays for them unless it
has to read the spec itself.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfgen.forks import can_fork, die_with
from tfgen.spec.document import Document, Positions
from tfgen.spec.issues import SpecPath


def read_here(path: str | Path) -> Document:
    """`load_file`, imported on first use."""
    from tfgen.spec.load import load_file

    return load_file(path)


# Below this size a spec reads in a few milliseconds: not worth a process.
READ_AHEAD_MIN_BYTES = 64 * 1024


def read_ahead(path: str | Path) -> Callable[[], Document]:
    """Start reading a large spec in a forked child; the function returned waits for it and
    gives the same Document as `load_file`. The caller imports what comes next meanwhile (load_spec
    pydantic and the checks, render also the render stage), so the YAML is read on the other core.

    The child only reads: its result comes back through a pipe as plain data. Anything but a
    clean read (a problem in the spec, a child that died or was cut off, no fork, other threads
    running, a small file) is read again here, so every error is raised by this process, as
    `load_file` raises it.
    """
    name = str(path)
    try:
        large = Path(path).stat().st_size >= READ_AHEAD_MIN_BYTES
    except OSError:
        large = False
    if not (large and (os.cpu_count() or 1) > 1 and can_fork()):
        return lambda: read_here(path)
    parent = os.getpid()
    try:
        read_fd, write_fd = os.pipe()
    except OSError:
        return lambda: read_here(path)
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return lambda: read_here(path)
    if pid == 0:  # the child: read, report, exit at once (never run the parent's code)
        try:
            os.close(read_fd)
            die_with(parent)
            try:
                doc = read_here(path)
                p = doc.positions
                groups: dict[Any, dict[SpecPath, tuple[int, int]]] = {}
                for where, mark in p.marks.items():
                    groups.setdefault(where[0] if where else None, {})[where] = mark
                top = groups.pop(None, {})
                later = {key: pickle.dumps(group, protocol=5) for key, group in groups.items()}
                payload = pickle.dumps((doc.data, top, later, p.notes), protocol=5)
            except BaseException:
                payload = b""  # the parent reads it again, and reports
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)
    os.close(write_fd)

    def collect() -> Document:
        try:
            with os.fdopen(read_fd, "rb") as inp:
                payload = inp.read()
        finally:
            os.waitpid(pid, 0)
        try:
            data, marks, later, notes = pickle.loads(payload)  # our child's, not the spec's
        except Exception:  # nothing sent, or cut off: the child failed or was killed
            return read_here(path)
        return Document(data, Positions(name, marks, notes, later))

    return collect
