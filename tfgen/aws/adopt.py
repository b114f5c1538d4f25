"""`render --adopt`: which live registry-policy statements the first apply would drop.

Adopting an account imports its registries' settings into Terraform, and the first apply then
writes the spec's registry policy over the live one: ECR keeps one policy per registry, so every
live statement the spec does not carry is gone. Before that, tfgen reads the live policy of each
adopted registry that gets a registry-policy stack (through the account's role, as verify does)
and lists what would go. When the live registries cannot be read (no credentials, offline), it
says so; render itself never needs AWS.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from tfgen.aws import canonical
from tfgen.aws.live import read_registry
from tfgen.aws.parallel import DEFAULT_JOBS, Reads, run_all
from tfgen.aws.sessions import Sessions
from tfgen.constants import GRANT_SID_PATTERN
from tfgen.errors import TfgenError
from tfgen.state import DesiredState, RegistryState

GENERAL = (
    "--adopt: the first apply of an adopted account replaces each registry's whole registry "
    "policy (and whole replication configuration) with what the spec compiles to; live "
    "statements and rules the spec does not have are removed. Put what must stay in the spec "
    "(`tfgen import` writes the live settings as a spec) and check with `tfgen verify`."
)
_SHOWN_MEMBERS = 2


@dataclass(frozen=True, slots=True)
class Dropped:
    """The live statements of one registry's policy that the compiled policy does not contain."""

    registry: str  # account/Region
    statements: tuple[str, ...]  # their Sids, or a short description

    def warning(self) -> str:
        listed = "; ".join(self.statements)
        return (
            f"--adopt: applying {self.registry}'s registry-policy stack drops "
            f"{len(self.statements)} live statement(s) the spec does not have: {listed}"
        )


@dataclass(frozen=True, slots=True)
class Adoption:
    """What the live registries of the adopted accounts say about adopting them."""

    dropped: tuple[Dropped, ...] = ()
    checked: int = 0  # registries whose live policy was read
    unread: tuple[str, ...] = ()  # why some (or all) could not be read


def check(
    state: DesiredState,
    accounts: Collection[str],
    sessions: Sessions,
    jobs: int = DEFAULT_JOBS,
) -> Adoption:
    """Read the live policy of every registry of `accounts` that tfgen gives a registry policy,
    and list the live statements the compiled one lacks."""
    targets = [
        r for r in state.registries if r.account in accounts and r.registry_policy() is not None
    ]
    if not targets:
        return Adoption()
    try:
        sessions.preflight()
    except TfgenError as exc:
        return Adoption(unread=(str(exc),))
    found = run_all(lambda r: _dropped(sessions, r), targets, Reads(jobs))
    dropped = tuple(d for d in found if isinstance(d, Dropped) and d.statements)
    unread = tuple(str(e) for e in found if isinstance(e, TfgenError))
    return Adoption(dropped, sum(1 for d in found if isinstance(d, Dropped)), unread)


def _dropped(sessions: Sessions, registry: RegistryState) -> Dropped:
    live = read_registry(sessions, registry.account, registry.region, templates=False)
    partition = registry.partition
    kept = {
        canonical.statement_key(s, partition)
        for s in canonical.statements(registry.registry_policy())
    }
    lost = [
        describe(i, stmt)
        + (" (a grant tfgen wrote before, replaced by the spec's grants)" if _tfgens(stmt) else "")
        for i, stmt in enumerate(canonical.statements(live.registry_policy))
        if canonical.statement_key(stmt, partition) not in kept
    ]
    return Dropped(registry.label, tuple(lost))


def _tfgens(stmt: Mapping[str, Any]) -> bool:
    sid = stmt.get("Sid")
    return isinstance(sid, str) and re.fullmatch(GRANT_SID_PATTERN, sid) is not None


def describe(index: int, stmt: Mapping[str, Any]) -> str:
    """A statement in a few words: its Sid, or its place, effect, actions and principals."""
    sid = stmt.get("Sid")
    if isinstance(sid, str) and sid:
        return repr(sid)
    actions = _members(stmt.get("Action") or stmt.get("NotAction"))
    principal = stmt.get("Principal") or stmt.get("NotPrincipal")
    if isinstance(principal, Mapping):
        principal = [m for ms in principal.values() for m in canonical.as_list(ms)]
    who = _members(principal)
    return f"statement {index} ({stmt.get('Effect', '?')} {actions} for {who})"


def _members(value: Any) -> str:
    items = [str(v) for v in canonical.as_list(value)]
    if len(items) > _SHOWN_MEMBERS:
        return ", ".join(items[:_SHOWN_MEMBERS]) + f" +{len(items) - _SHOWN_MEMBERS} more"
    return ", ".join(items) or "-"


__all__ = ["GENERAL", "Adoption", "Dropped", "check", "describe"]
