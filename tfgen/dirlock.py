"""One tfgen per rendered tree: an advisory fcntl lock on `DIR/.tfgen/lock`.

This is the *directory lock* (render, plan, apply and destroy never interleave on one tree). It is
not `tfgen.lock.json` (the Organizations lock file, `tfgen.spec.lockfile.OrgLock`) and not
Terraform's state lock (S3 lock file or DynamoDB table, see `--lock-timeout`).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from tfgen.constants import STATE_DIR
from tfgen.errors import TfgenError
from tfgen.safeio import real_dir


class LockedError(TfgenError):
    """Another tfgen holds the directory lock of this tree."""


def lock_path(root: Path) -> Path:
    """Where the directory lock of the tree at `root` lives."""
    return root / STATE_DIR / "lock"


class DirLock:
    """Held for the whole command; the kernel drops it if tfgen dies, so it never goes stale."""

    def __init__(self, path: Path, command: str) -> None:
        self.path = path
        self.command = command
        self._fd: int | None = None

    @classmethod
    def of_tree(cls, root: Path, command: str) -> DirLock:
        """The directory lock of the tree rendered at `root`."""
        return cls(lock_path(root), command)

    def __enter__(self) -> DirLock:
        real_dir(self.path.parent)  # a link at DIR/.tfgen would carry the lock elsewhere
        try:
            # O_NOFOLLOW: a link planted at the lock's name must not make tfgen write elsewhere.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise TfgenError(
                f"cannot take the directory lock {self.path}: {exc.strerror or exc}"
            ) from None
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
