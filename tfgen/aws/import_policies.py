"""Registry policies → spec `registry_policies`, with tfgen's replication grants taken out.

A statement is a replication grant when it is an Allow of ecr:ReplicateImage (with or without
ecr:CreateRepository) on `repository/*` of its own registry, for account principals only, and every
account it names replicates to that registry: tfgen writes that grant itself from the replication
entries, whatever the Sid and however many statements it was split into. Everything else is kept
as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tfgen.aws import canonical
from tfgen.aws.live import LiveRegistry
from tfgen.errors import TfgenError
from tfgen.spec import policy
from tfgen.state import GRANT_SID, POLICY_VERSION, compact_json

_GRANT_KEYS = {"Sid", "Effect", "Principal", "Action", "Resource"}
_GRANT_ACTIONS = (
    {"ecr:createrepository", "ecr:replicateimage"},
    {"ecr:replicateimage"},
)
RENAMED_SID = "TfgenReplicationImported"

Sources = Mapping[tuple[str, str], set[str]]  # (registry id, region) → ids replicating to it


@dataclass(slots=True)
class PolicyImport:
    """Registry-policy statements for the spec (grants taken out), and notes on what changed."""

    registry_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def grant_accounts(
    stmt: Mapping[str, Any], registry_id: str, region: str, partition: str
) -> set[str] | None:
    """The accounts a statement grants replication into this registry, if it is such a grant."""
    if set(stmt) - _GRANT_KEYS or stmt.get("Effect") != "Allow":
        return None
    if {str(a).lower() for a in canonical.as_list(stmt.get("Action"))} not in _GRANT_ACTIONS:
        return None
    resource = f"arn:{partition}:ecr:{region}:{registry_id}:repository/*"
    if set(canonical.as_list(stmt.get("Resource"))) != {resource}:
        return None
    principal = stmt.get("Principal")
    if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
        return None
    ids = {canonical.principal_account(str(p)) for p in canonical.as_list(principal["AWS"])}
    if not ids or None in ids:
        return None
    return {i for i in ids if i is not None}


def _extra_statements(
    registry: LiveRegistry, sources: set[str], partition: str, notes: list[str]
) -> list[dict[str, Any]]:
    """The statements of a live policy that are not tfgen's grant, noting what will change."""
    assert registry.registry_policy is not None
    label = registry.label
    version = registry.registry_policy.get("Version")
    if version != POLICY_VERSION:
        notes.append(f"{label}: the policy's Version {version!r} becomes {POLICY_VERSION!r}")
    extras: list[dict[str, Any]] = []
    granted: set[str] = set()
    grants: list[str] = []
    for stmt in canonical.statements(registry.registry_policy):
        ids = grant_accounts(stmt, registry.account_id, registry.region, partition)
        sid = stmt.get("Sid")
        if ids is not None and (ids <= sources or sid == GRANT_SID):
            if not ids <= sources:
                notes.append(
                    f"{label}: the grant {sid} names {', '.join(sorted(ids - sources))}, which do "
                    "not replicate here; tfgen's grant leaves them out"
                )
            granted |= ids & sources
            grants.append(str(sid) if sid else "(no Sid)")
            if {str(a).lower() for a in canonical.as_list(stmt["Action"])} == _GRANT_ACTIONS[1]:
                notes.append(
                    f"{label}: grant {sid or '(no Sid)'} allows only ecr:ReplicateImage; tfgen's "
                    "grant also allows ecr:CreateRepository, so replication can create repositories"
                )
            continue
        if sid == GRANT_SID:
            notes.append(
                f"{label}: a statement with tfgen's Sid {GRANT_SID} that is not a replication "
                f"grant is kept as {RENAMED_SID}"
            )
            stmt = {**stmt, "Sid": RENAMED_SID}
        extras.append(_with_acceptances(dict(stmt), registry, sources, partition, notes))
    if grants and grants != [GRANT_SID]:
        notes.append(
            f"{label}: replication grant(s) {', '.join(grants)} become tfgen's single statement "
            f"{GRANT_SID} (same permissions)"
        )
    missing = sources - granted
    if missing:
        notes.append(
            f"{label}: no grant for {', '.join(sorted(missing))}, which replicate here (their "
            "replication fails today); tfgen's grant adds them"
        )
    return extras


def _with_acceptances(
    stmt: dict[str, Any],
    registry: LiveRegistry,
    sources: set[str],
    partition: str,
    notes: list[str],
) -> dict[str, Any]:
    """A live statement the spec would refuse without an opt-in gets `tfgen_accept`, with a note,
    so the imported spec says out loud what the live policy already does."""
    needed = policy.risky_shapes(stmt)
    arn = f"arn:{partition}:ecr:{registry.region}:{registry.account_id}:repository/"
    if any(policy.denial(stmt, s, partition, arn, [""]) for s in sorted(sources)):
        needed.append("denies_replication")
    if not needed:
        return stmt
    notes.append(
        f"{registry.label}: statement {stmt.get('Sid') or '(no Sid)'} is "
        + " and ".join(policy.ACCEPTANCES[n] for n in needed)
        + f"; kept with 'tfgen_accept: [{', '.join(needed)}]' - review it"
    )
    return {**stmt, policy.ACCEPT_KEY: needed}


def import_policies(
    live: Sequence[LiveRegistry],
    names: Mapping[str, str],
    sources: Sources,
    partition: str,
) -> PolicyImport:
    """Spec `registry_policies` (one entry per account: spec v1 has one statement list each)."""
    out = PolicyImport()
    per_account: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for registry in live:
        replicating = sources.get((registry.account_id, registry.region), set())
        if registry.registry_policy is None:
            if replicating:
                out.notes.append(
                    f"{registry.label}: no registry policy, yet {', '.join(sorted(replicating))} "
                    "replicate here (their replication fails today); tfgen's grant adds them"
                )
            continue
        extras = _extra_statements(registry, replicating, partition, out.notes)
        if extras:
            per_account.setdefault(names[registry.account_id], {})[registry.region] = extras
    for account, by_region in per_account.items():
        lists = {canonical_text(s) for s in by_region.values()}
        if len(lists) > 1:
            raise TfgenError(
                f"the registry policies of '{account}' hold different statements in "
                f"{', '.join(by_region)}; spec v1 keeps one list of statements per account. "
                "Import those Regions in separate runs (--regions), or make the policies alike first"
            )
        out.registry_policies[account] = {
            "regions": list(by_region),
            "statements": next(iter(by_region.values())),
        }
    return out


def canonical_text(statements: Sequence[Mapping[str, Any]]) -> str:
    return compact_json(list(statements))


__all__ = ["PolicyImport", "grant_accounts", "import_policies"]
