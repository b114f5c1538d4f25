"""Files tfgen writes for itself: created exclusively, never through a link, replaced atomically.

A rendered tree arrives in pull requests, and so can anything planted in it: a link at the name of
a temporary file, of `DIR/.tfgen` or of one of its directories would carry a write outside the
tree. Every file tfgen writes besides the owned ones (run-time state in `DIR/.tfgen`, the render
journal, reports, atlantis.yaml) goes through here: a temporary file beside the target, created
with O_EXCL and O_NOFOLLOW after removing whatever was at its name (a link itself, never what it
points to), then renamed over the target (a rename replaces a link itself, too). Directories
tfgen keeps its own files in must be real directories.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from tfgen.constants import STATE_DIR
from tfgen.errors import TfgenError

TEMP_SUFFIX = ".tfgen-tmp"
_GITIGNORE = "# tfgen run-time state: never commit\n*\n"
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class UnsafeFileError(TfgenError):
    """A place tfgen writes its own files is a symbolic link, or not a directory."""


def temp_name(path: str) -> str:
    """The temporary file beside `path` that tfgen writes before renaming it into place."""
    parent, _, name = path.rpartition("/")
    return f"{parent}/.{name}{TEMP_SUFFIX}" if parent else f".{name}{TEMP_SUFFIX}"


def create_new(path: str | Path, mode: int = 0o644) -> int:
    """A file descriptor of a new, empty file at `path`, created exclusively and without following
    a link; whatever was at the name (a leftover, or a link planted there) is removed first."""
    try:
        return os.open(path, _NEW, mode)
    except FileExistsError:
        os.unlink(path)  # noqa: PTH108 - a link itself, never its target; a directory raises
        return os.open(path, _NEW, mode)


def replace(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, through `temp_name(path)`."""
    tmp = temp_name(str(path))
    fd = create_new(tmp)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)  # noqa: PTH105
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # noqa: PTH108
        raise


def real_dir(path: Path) -> Path:
    """`path` as a real directory, created (with its parents) when missing; a symbolic link or a
    file at its name is refused."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        try:
            path.mkdir(parents=True, exist_ok=True)
            mode = os.lstat(path).st_mode
        except OSError as exc:
            raise UnsafeFileError(f"cannot create {path}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(mode):
        raise UnsafeFileError(
            f"{path} is a symbolic link; tfgen keeps its own files there and never follows "
            "links: remove the link (tfgen creates the directory)"
        )
    if not stat.S_ISDIR(mode):
        raise UnsafeFileError(f"{path} is not a directory; tfgen keeps its own files there")
    return path


def state_dir(root: Path) -> Path:
    """`DIR/.tfgen` of the tree at `root`: a real directory that git ignores."""
    path = real_dir(root / STATE_DIR)
    ignore = path / ".gitignore"
    if not os.path.lexists(ignore):
        replace(ignore, _GITIGNORE.encode())
    return path
