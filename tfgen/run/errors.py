"""Errors the runner raises before any stack runs; each message says what to do."""

from __future__ import annotations

from tfgen.errors import TfgenError


class RunError(TfgenError):
    """A precondition failed: no terraform, no saved plans, no stack matches --stacks."""


class TerraformNotFoundError(RunError):
    """No usable terraform/tofu binary, or one older than the minimum."""
