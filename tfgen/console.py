"""Terminal output: one stdout and one stderr console, colour and verbosity set once by the CLI.

rich is imported on first use, so commands that print nothing (a quiet no-op render) skip it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    out: Console
    err: Console

verbosity = 0  # -1 quiet, 0 normal, 1+ verbose
_color = True
_consoles: dict[str, Any] = {}


def configure(*, no_color: bool = False, quiet: bool = False, verbose: int = 0) -> None:
    global verbosity, _color
    _color = not (no_color or os.environ.get("NO_COLOR"))
    verbosity = -1 if quiet else verbose
    _consoles.clear()


def __getattr__(name: str) -> Any:
    if name not in ("out", "err"):
        raise AttributeError(name)
    if name not in _consoles:
        from rich.console import Console

        # No file=: rich then looks up sys.stdout/sys.stderr at each print (test runners swap them).
        _consoles[name] = Console(
            stderr=name == "err",
            highlight=False,
            soft_wrap=True,
            no_color=not _color,
        )
    return _consoles[name]


def _print(message: str, style: str | None = None) -> None:
    __getattr__("err").print(message, style=style, markup=False)


def info(message: str) -> None:
    if verbosity >= 0:
        _print(message)


def detail(message: str) -> None:
    if verbosity >= 1:
        _print(message)


def warning(message: str) -> None:
    if verbosity >= 0:
        _print(message, "yellow")


def error(message: str) -> None:
    _print(message, "red")
