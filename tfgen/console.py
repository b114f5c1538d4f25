"""Terminal output: one stdout and one stderr console, colour and verbosity set once by the CLI."""

from __future__ import annotations

import os
import sys

from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
verbosity = 0  # -1 quiet, 0 normal, 1+ verbose


def configure(*, no_color: bool = False, quiet: bool = False, verbose: int = 0) -> None:
    global out, err, verbosity
    color = not (no_color or os.environ.get("NO_COLOR"))
    out = Console(highlight=False, soft_wrap=True, no_color=not color, file=sys.stdout)
    err = Console(stderr=True, highlight=False, soft_wrap=True, no_color=not color)
    verbosity = -1 if quiet else verbose


def info(message: str) -> None:
    if verbosity >= 0:
        err.print(message, markup=False)


def detail(message: str) -> None:
    if verbosity >= 1:
        err.print(message, markup=False)


def warning(message: str) -> None:
    if verbosity >= 0:
        err.print(message, style="yellow", markup=False)


def error(message: str) -> None:
    err.print(message, style="red", markup=False)
