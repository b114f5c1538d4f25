"""The values that flow from the runner to the report: stacks in (tfgen.manifest.ManifestStack),
results out (StackResult, with the StepResult of each terraform command and a PlanSummary)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from tfgen.manifest import ManifestStack


class Status(enum.Enum):
    """How one action on one stack ended. These words, in this order, are what the live view,
    the table, the Markdown comment and the JSON report all say (tfgen.report.tally)."""

    OK = "ok"
    FAILED = "failed"
    # Not run because a stack it depends on failed (or was blocked), or has no saved plan and is
    # not known to be applied: its change is pending, so the run fails (exit 1).
    BLOCKED = "blocked"
    # Not started because the run stopped early: the first stacks failed alike (--keep-going).
    SKIPPED = "skipped"
    # Running when the user interrupted: terraform was told to stop.
    INTERRUPTED = "interrupted"
    # Never started because of an interrupt.
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ReplicationDelta:
    """What a plan changes in one registry's `aws_ecr_replication_configuration`."""

    address: str
    registry: str = ""  # ACCOUNT_ID/REGION, from the plan's provider configuration; "" if unknown
    rules_added: tuple[str, ...] = ()
    rules_removed: tuple[str, ...] = ()
    destinations_added: tuple[str, ...] = ()
    destinations_removed: tuple[str, ...] = ()
    unknown_after: bool = False


@dataclass(frozen=True)
class GrantDelta:
    """What a plan changes in one registry's `aws_ecr_registry_policy`."""

    address: str
    registry: str = ""
    principals_added: tuple[str, ...] = ()
    principals_removed: tuple[str, ...] = ()
    sids_added: tuple[str, ...] = ()
    sids_removed: tuple[str, ...] = ()
    unknown_after: bool = False
    # What an Allow gives a principal on a resource: "PRINCIPAL -> RESOURCE (ACTIONS)", the
    # resource after the registry's ARN ("repository/team-a/*"), so a grant that only changes its
    # repositories or actions still shows.
    access_added: tuple[str, ...] = ()
    access_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateDelta:
    """What a plan does to one `aws_ecr_repository_creation_template`: create, update, delete or
    replace the template of `prefix`, and which of its settings change."""

    address: str
    registry: str
    prefix: str
    action: str
    settings_changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceChange:
    """One resource a plan changes: `create`, `update`, `delete` or `replace`."""

    address: str
    type: str
    action: str


@dataclass(frozen=True)
class PlanSummary:
    """Counts as Terraform prints them, the resources that change, and their ECR meaning."""

    add: int = 0
    change: int = 0
    destroy: int = 0
    replication: tuple[ReplicationDelta, ...] = ()
    grants: tuple[GrantDelta, ...] = ()
    resources: tuple[ResourceChange, ...] = ()
    templates: tuple[TemplateDelta, ...] = ()
    imported: int = 0  # resources taken over by `import` blocks (Terraform >= 1.5)

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.destroy or self.imported)


@dataclass(frozen=True)
class StepResult:
    """One terraform command run for a stack."""

    name: str
    argv: tuple[str, ...]
    returncode: int | None
    duration: float
    timed_out: bool = False
    interrupted: bool = False
    output: str = field(default="", repr=False)
    # Time spent waiting for the init lock before the command started.
    waited: float = 0.0

    @property
    def ok(self) -> bool:
        # `plan -detailed-exitcode` returns 2 for "changes present", which is success.
        return self.returncode in (0, 2) and not self.timed_out and not self.interrupted


@dataclass(frozen=True)
class RegistryEvidence:
    """One registry a stack manages, read live and found to hold what the stack makes true."""

    account: str
    account_id: str
    region: str
    settings: tuple[str, ...]  # what was compared: "replication", "registry policy", ...
    notes: tuple[str, ...] = ()  # what verify notes but is not drift (rule order, others' rules)

    @property
    def registry(self) -> str:
        """ACCOUNT_ID/REGION, as the plan summaries name registries."""
        return f"{self.account_id}/{self.region}"


@dataclass(frozen=True)
class InSync:
    """Why a stack was not planned: its files hash to what was last applied successfully, and
    every registry it manages was read live and holds what its desired.json says."""

    content_hash: str  # the stack's content hash, equal to the applied record's
    verified_at: float  # when the registries were read (epoch seconds)
    registries: tuple[RegistryEvidence, ...]


@dataclass(frozen=True)
class StackResult:
    """The outcome of one action (plan, apply, destroy) on one stack."""

    stack: ManifestStack
    action: str
    status: Status
    reason: str = ""
    hint: str = ""
    # The usual cause tfgen recognised (tfgen.run.hints): "credentials", "provider download", ...
    cause: str = ""
    failed_command: str = ""
    log: Path | None = None
    summary: PlanSummary | None = None
    changes: bool = False
    steps: tuple[StepResult, ...] = ()
    duration: float = 0.0
    # Wall-clock start (epoch seconds); 0 when the stack never started.
    started: float = 0.0
    # Why a plan ran Terraform for this stack, when it chose (`tfgen plan` without --all).
    planned_because: str = ""
    # Action "verify": not planned, because it is proven in sync.
    in_sync: InSync | None = None

    def __bool__(self) -> bool:
        return self.status in (Status.OK, Status.SKIPPED)
