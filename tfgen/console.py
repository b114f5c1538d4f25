"""Terminal output: the one stdout and the one stderr console of every command.

The CLI sets colour and verbosity once (`configure`); every command and the run reports print
through `out` and `err`, so `--no-color`, `NO_COLOR` and `-q` hold everywhere, also when
`FORCE_COLOR` makes rich treat a pipe as a terminal. rich is imported on first use, so commands
that print nothing (a quiet no-op render) skip it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    out: Console
    err: Console

PIPE_WIDTH = 120  # tables written to a file or a CI log: wider than rich's 80 columns
verbosity = 0  # -1 quiet, 0 normal, 1+ verbose
# Set by a command run with --json: its failure is printed as a JSON object on stdout too, so a
# program reading stdout gets an answer (tfgen.cli's error handler).
json_errors = False
_color = True
_consoles: dict[str, Any] = {}


def configure(*, no_color: bool = False, quiet: bool = False, verbose: int = 0) -> None:
    """Set colour and verbosity for every console, from the global options."""
    global verbosity, _color, json_errors
    _color = not (no_color or os.environ.get("NO_COLOR"))
    verbosity = -1 if quiet else verbose
    json_errors = False
    _consoles.clear()


def _make(name: str) -> Console:
    from rich.console import Console

    # No file=: rich then looks up sys.stdout/sys.stderr at each print (test runners swap them).
    # color_system=None, not only no_color: no_color keeps bold and reverse, which FORCE_COLOR
    # would then print as escape sequences.
    console = Console(
        stderr=name == "err",
        highlight=False,
        soft_wrap=True,
        no_color=not _color,
        color_system="auto" if _color else None,
    )
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = PIPE_WIDTH
    return console


def __getattr__(name: str) -> Any:
    if name not in ("out", "err"):
        raise AttributeError(name)
    if name not in _consoles:
        _consoles[name] = _make(name)
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
