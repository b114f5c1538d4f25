"""One tfgen per DIR: an advisory fcntl lock on `DIR/.tfgen/lock`."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from tfgen.run.errors import LockedError


class DirLock:
    """Held for the whole command; the kernel drops it if tfgen dies, so it never goes stale."""

    def __init__(self, path: Path, command: str) -> None:
        self.path = path
        self.command = command
        self._fd: int | None = None

    def __enter__(self) -> DirLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(
                f"another tfgen is already running on {self.path.parent.parent} ({holder}); "
                "wait for it to finish - runs on one directory are never interleaved"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}: tfgen {self.command}\n".encode())
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
