"""`tfgen init`: the commented starter spec (templates/starter/tfgen.yaml), written without ever
overwriting a file unless asked."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tfgen.constants import DEFAULT_SPEC
from tfgen.errors import TfgenError
from tfgen.render.resources import data_dir

STARTER = ("starter", DEFAULT_SPEC)  # templates/starter/ holds the file under its default name


def starter_path() -> Path:
    return data_dir("templates").joinpath(*STARTER)


def starter_text() -> str:
    """The starter spec: valid as it stands, every field documented in a comment."""
    return starter_path().read_text(encoding="utf-8")


def target_path(path: Path) -> Path:
    """A directory means DIR/tfgen.yaml; anything else is the file itself."""
    return path / DEFAULT_SPEC if path.is_dir() else path


def write_starter(path: Path, *, force: bool = False) -> Path:
    """Write the starter spec to `path` (or `path/tfgen.yaml`); refuse to replace an existing file
    unless `force`. Returns the file written."""
    target = target_path(path)
    if target.exists() and not force:
        raise TfgenError(f"{target} already exists; use --force to overwrite it")
    if target.exists() and not target.is_file():
        raise TfgenError(f"{target} exists and is not a file")
    if not target.parent.is_dir():
        raise TfgenError(f"{target.parent} is not a directory; create it first")
    tmp = target.with_name(f".{target.name}.tfgen-tmp-{os.getpid()}")
    try:
        tmp.write_text(starter_text(), encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise TfgenError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
