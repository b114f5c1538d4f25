"""Terminal output: the one stdout and the one stderr console of every command.

The CLI sets colour and verbosity once (`configure`); every command and the run reports print
through `out` and `err`, so `--no-color`, `NO_COLOR` and `-q` hold everywhere, also when
`FORCE_COLOR` makes rich treat a pipe as a terminal. rich is imported on first use, so commands
that print nothing (a quiet no-op render) skip it.

User text (names from a spec, paths, Terraform's and AWS's messages) reaches the terminal only as
`tfgen.escape.printable` text: control characters (C0 but newline and tab, DEL, C1), bidirectional
overrides and line separators are shown as `\\x1b`-style escapes, so no string can move the
cursor, recolour, retitle the terminal or reorder what is shown. The consoles apply it to every
segment rich prints (rich adds its own styling afterwards, from styles, never from text).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tfgen.escape import printable

__all__ = ["configure", "detail", "error", "info", "line", "printable", "warning"]

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.segment import Segment

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


def line(text: str) -> None:
    """One line of plain output to stdout (no wrapping, no markup), made printable."""
    sys.stdout.write(printable(text) + "\n")


def _make(name: str) -> Console:
    from rich.console import Console
    from rich.segment import Segment

    class _Printable(Console):
        """A console that prints every text segment as `printable` text."""

        def render(
            self, renderable: RenderableType, options: ConsoleOptions | None = None
        ) -> Iterable[Segment]:
            for segment in super().render(renderable, options):
                text = segment.text
                safe = printable(text)
                yield segment if segment.control or safe is text else Segment(safe, segment.style)

    # No file=: rich then looks up sys.stdout/sys.stderr at each print (test runners swap them).
    # color_system=None, not only no_color: no_color keeps bold and reverse, which FORCE_COLOR
    # would then print as escape sequences. markup=False, emoji=False: '[bold]', '[/]' and
    # ':name:' in a user string (a path, a Terraform error in a table) stay text.
    console = _Printable(
        stderr=name == "err",
        highlight=False,
        soft_wrap=True,
        markup=False,
        emoji=False,
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
