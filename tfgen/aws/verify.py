"""Compare live registries with the compiled desired state, rule by rule and statement by statement.

What counts as drift is what changes ECR's behaviour (see canonical.py for the equivalences). Rule
order is not drift: ECR applies every rule whose filters match, whatever its place, so the order of
rules, of a rule's destinations and of its filters is reported as a note (Terraform keeps these as
lists, so its next plan will show an in-place update). Settings tfgen does not manage in a registry
(a policy where tfgen grants nothing, rules where it replicates nothing, templates of other
prefixes) are notes too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tfgen.aws.differences import (
    Difference,
    Findings,
    compare_policy,
    compare_rules,
    compare_templates,
)
from tfgen.aws.live import LiveRegistry, read_registry
from tfgen.aws.parallel import Reads, run_all
from tfgen.aws.sessions import Sessions
from tfgen.errors import TfgenError
from tfgen.exitcodes import ExitCode
from tfgen.state import (
    POLICY_SETTING,
    REPLICATION_SETTING,
    TEMPLATES_SETTING,
    DesiredRegistry,
    DesiredState,
    RegistryState,
)


class Status(StrEnum):
    """How one registry compares with its desired state."""

    IN_SYNC = "in_sync"
    DRIFT = "drift"
    MISSING = "missing"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The comparison of one registry: its status and every difference found."""

    account: str
    account_id: str
    region: str
    status: Status
    differences: tuple[Difference, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "account_id": self.account_id,
            "region": self.region,
            "status": self.status.value,
            "differences": [d.to_json() for d in self.differences],
            "notes": list(self.notes),
            "error": self.error,
        }


def compare(desired: DesiredRegistry | RegistryState, live: LiveRegistry) -> Verdict:
    """The verdict on one registry: in sync, drift (with every difference), or missing. Only
    the settings `desired` covers are compared (all of them for a compiled registry)."""
    if isinstance(desired, RegistryState):
        desired = desired.desired()
    out = Findings()
    if REPLICATION_SETTING in desired.settings:
        compare_rules(desired, live, out)
    if POLICY_SETTING in desired.settings:
        compare_policy(desired, live, out)
    if TEMPLATES_SETTING in desired.settings:
        compare_templates(desired, live, out)
    status = Status.IN_SYNC
    if out.differences:
        status = Status.MISSING if _nothing_applied(desired, live) else Status.DRIFT
    return Verdict(
        desired.account,
        desired.account_id,
        desired.region,
        status,
        tuple(out.differences),
        tuple(out.notes),
    )


def _nothing_applied(desired: DesiredRegistry, live: LiveRegistry) -> bool:
    """None of what tfgen manages here exists: the registry was never set up (or was reset)."""
    if desired.rules and live.replication_configuration is not None:
        return False
    if desired.policy is not None and live.registry_policy is not None:
        return False
    wanted = {t.prefix for t in desired.creation_templates}
    return not any(t.get("prefix") in wanted for t in live.creation_templates or ())


def verify(state: DesiredState, sessions: Sessions, reads: Reads) -> tuple[Verdict, ...]:
    """Read every managed registry (in parallel) and compare it; in the state's order."""
    return verify_registries([r.desired() for r in state.registries], sessions, reads)


def verify_registries(
    registries: Sequence[DesiredRegistry], sessions: Sessions, reads: Reads
) -> tuple[Verdict, ...]:
    """Read each registry of `registries` once (in parallel; several entries may name one
    registry, each covering some of its settings) and compare every entry with it; in order."""
    keys: dict[tuple[str, str], bool] = {}  # (account, Region) -> read its creation templates
    for d in registries:
        key = (d.account, d.region)
        keys[key] = keys.get(key, False) or bool(
            d.creation_templates and TEMPLATES_SETTING in d.settings
        )

    def one(key: tuple[str, str]) -> LiveRegistry:
        return read_registry(sessions, key[0], key[1], templates=keys[key])

    found = dict(zip(keys, run_all(one, list(keys), reads, "registries"), strict=True))
    verdicts = []
    for d in registries:
        live = found[(d.account, d.region)]
        verdicts.append(
            Verdict(d.account, d.account_id, d.region, Status.ERROR, error=str(live))
            if isinstance(live, TfgenError)
            else compare(d, live)
        )
    return tuple(verdicts)


def exit_status(verdicts: Sequence[Verdict]) -> ExitCode:
    """1 if any registry could not be read, else 2 if any drifted or is missing, else 0."""
    statuses = {v.status for v in verdicts}
    if Status.ERROR in statuses:
        return ExitCode.ERROR
    return ExitCode.CHANGES if statuses & {Status.DRIFT, Status.MISSING} else ExitCode.OK


__all__ = [
    "Difference",
    "Status",
    "Verdict",
    "compare",
    "exit_status",
    "verify",
    "verify_registries",
]
