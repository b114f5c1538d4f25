"""Which stacks `tfgen plan` runs Terraform for: those that may differ, and why.

A stack is left out, "in sync, verified live", only when both hold:

1. its content hash (its files and its modules' files, read from disk: tfgen.run.hashes) is the
   one recorded at its last successful apply, so Terraform would plan the configuration it last
   applied;
2. every registry it manages, read live now, holds what its desired.json says (tfgen.desired),
   by the comparison `tfgen verify` makes (tfgen.aws.verify), for the stack's settings only.

Every other stack is planned, with the reason: retired (its plan destroys), never applied, files
changed since the last apply, a desired.json that cannot be read, a registry that could not be
read (no credentials, access denied, throttled past the retries), or drift. The live reads run on
a bounded pool (tfgen.aws.parallel) with botocore's retries, which back off on throttling.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tfgen import desired
from tfgen.aws.parallel import Reads
from tfgen.aws.sessions import Sessions
from tfgen.aws.verify import Status, Verdict, verify_registries
from tfgen.errors import TfgenError
from tfgen.manifest import Manifest, ManifestStack, UnsafePathError
from tfgen.run import hashes
from tfgen.run.model import InSync, RegistryEvidence
from tfgen.state import AccountState

RETIRED = "retired: its plan destroys what it managed"
NEVER_APPLIED = "never applied (no applied record)"
FILES_CHANGED = "files changed since the last apply"
NOT_VERIFIED = "not verified"
LIVE_DIFFERS = "live differs"
_SHOWN = 3  # differences named in a reason; the plan shows them all
_TEMPLATES_NOT_CHECKED = "creation templates not checked"  # verify's note (tfgen.aws.live)


@dataclass(frozen=True)
class Decision:
    """Plan the stack (`why` says why), or not: it is `in_sync`, with the evidence."""

    stack: ManifestStack
    why: str = ""
    in_sync: InSync | None = None

    @property
    def planned(self) -> bool:
        return self.in_sync is None


@dataclass(frozen=True)
class Triage:
    """Every selected stack's decision, in the order given, and what the live check cost."""

    decisions: tuple[Decision, ...]
    registries_read: int = 0
    seconds: float = 0.0

    @property
    def planned(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.planned)

    @property
    def in_sync(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.planned)


def files_reason(
    hasher: hashes.Hasher, stack: ManifestStack, applied: Mapping[str, str]
) -> tuple[str, str]:
    """(why the stack must be planned for its files alone, or ""; its content hash)."""
    if stack.retired:
        return RETIRED, ""
    try:
        current = hasher.hash(stack)
    except (UnsafePathError, OSError) as exc:
        return f"{NOT_VERIFIED}: {exc}", ""
    recorded = applied.get(stack.id)
    if recorded is None:
        return NEVER_APPLIED, current
    return ("" if recorded == current else FILES_CHANGED), current


def decide(
    manifest: Manifest,
    stacks: Sequence[ManifestStack],
    applied: Mapping[str, str],
    reads: Reads,
    *,
    profile: str | None = None,
) -> Triage:
    """Decide for each of `stacks` (see the module docstring); reads AWS only for the stacks
    whose files are as last applied."""
    started = time.monotonic()
    decisions: dict[str, Decision] = {}
    candidates: list[tuple[ManifestStack, str, desired.StackDesired]] = []
    hasher = hashes.Hasher(manifest)
    for stack in stacks:
        why, current = files_reason(hasher, stack, applied)
        if why:
            decisions[stack.id] = Decision(stack, why)
            continue
        try:
            candidates.append((stack, current, desired.read(manifest, stack)))
        except desired.DesiredError as exc:
            decisions[stack.id] = Decision(stack, f"{NOT_VERIFIED}: {exc}")
    accounts, conflicting = _accounts([d for _, _, d in candidates])
    for stack, _, found in candidates:
        if found.account.name in conflicting:
            decisions[stack.id] = Decision(
                stack, f"{NOT_VERIFIED}: the stacks of {found.account.name} disagree about it"
            )
    checked = [c for c in candidates if c[0].id not in decisions]
    read = 0
    if checked:
        sessions = Sessions(accounts, profile=profile, timeout=reads.timeout)
        try:
            sessions.preflight()
        except TfgenError as exc:
            for stack, _, _ in checked:
                decisions[stack.id] = Decision(stack, f"{NOT_VERIFIED}: {exc}")
        else:
            registries = [r for _, _, found in checked for r in found.registries]
            verdicts = verify_registries(registries, sessions, reads)
            read = len({(r.account, r.region) for r in registries})
            at = time.time()
            i = 0
            for stack, current, found in checked:
                mine = verdicts[i : i + len(found.registries)]
                i += len(found.registries)
                decisions[stack.id] = _judge(stack, current, found, mine, at)
    return Triage(tuple(decisions[s.id] for s in stacks), read, time.monotonic() - started)


def _accounts(
    found: Sequence[desired.StackDesired],
) -> tuple[dict[str, AccountState], set[str]]:
    """The accounts to read, by name; names whose stacks' files disagree about the account."""
    accounts: dict[str, AccountState] = {}
    conflicting: set[str] = set()
    for d in found:
        known = accounts.setdefault(d.account.name, d.account)
        if known != d.account:
            conflicting.add(d.account.name)
    return accounts, conflicting


def _judge(
    stack: ManifestStack,
    content_hash: str,
    found: desired.StackDesired,
    verdicts: Sequence[Verdict],
    at: float,
) -> Decision:
    errors = [v for v in verdicts if v.status is Status.ERROR]
    if errors:
        return Decision(stack, f"{NOT_VERIFIED}: {errors[0].label}: {errors[0].error}")
    # verify judges the rest of a registry whose templates it could not read; here that is no
    # proof: the stack manages the templates.
    unread = [v for v in verdicts if any(n.startswith(_TEMPLATES_NOT_CHECKED) for n in v.notes)]
    if unread:
        return Decision(stack, f"{NOT_VERIFIED}: {unread[0].label}: {_TEMPLATES_NOT_CHECKED}")
    differences = [
        f"{v.label}: {d.format()}"
        for v in verdicts
        if v.status is not Status.IN_SYNC
        for d in v.differences
    ]
    if differences:
        more = len(differences) - _SHOWN
        shown = "; ".join(differences[:_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        return Decision(stack, f"{LIVE_DIFFERS}: {shown}")
    evidence = tuple(
        RegistryEvidence(v.account, v.account_id, v.region, tuple(sorted(r.settings)), v.notes)
        for v, r in zip(verdicts, found.registries, strict=True)
    )
    return Decision(stack, in_sync=InSync(content_hash, at, evidence))


__all__ = [
    "FILES_CHANGED",
    "LIVE_DIFFERS",
    "NEVER_APPLIED",
    "NOT_VERIFIED",
    "RETIRED",
    "Decision",
    "Triage",
    "decide",
    "files_reason",
]
