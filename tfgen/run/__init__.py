"""Stage 4: drive terraform across the rendered stacks (docs/running.md).

The commands that also report (`plan`, `apply`, `destroy`) live in tfgen.commands_run, above
tfgen.report in the import layers; this package never imports the report.
"""

from __future__ import annotations

from tfgen.run.errors import LockedError, ManifestError, RunError, TerraformNotFoundError
from tfgen.run.manifest import load_manifest
from tfgen.run.model import Manifest, PlanSummary, Stack, StackResult, Status
from tfgen.run.scheduler import run_stacks

__all__ = [
    "LockedError",
    "Manifest",
    "ManifestError",
    "PlanSummary",
    "RunError",
    "Stack",
    "StackResult",
    "Status",
    "TerraformNotFoundError",
    "load_manifest",
    "run_stacks",
]
