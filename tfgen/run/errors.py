"""Errors the runner raises before any stack runs; each message says what to do."""

from __future__ import annotations

from tfgen.errors import TfgenError


class RunError(TfgenError):
    """A precondition failed: no manifest, no terraform, DIR locked, no saved plans."""


class ManifestError(RunError):
    """`tfgen.manifest.json` is missing or not in the documented shape."""


class TerraformNotFoundError(RunError):
    """No usable terraform/tofu binary, or one older than the minimum."""


class LockedError(RunError):
    """Another tfgen holds `DIR/.tfgen/lock`."""
