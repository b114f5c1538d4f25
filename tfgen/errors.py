"""The exceptions tfgen raises for things a user can fix. Anything else reaching the CLI is a bug."""

from __future__ import annotations


class TfgenError(Exception):
    """A failure the user can act on; the CLI prints the message and exits 1."""


class RenderError(TfgenError):
    """The output directory cannot be written as asked (foreign files, unsafe paths, ...)."""
