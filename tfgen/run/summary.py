"""An ECR-aware summary of a saved plan, from `terraform show -json PLANFILE`.

Pure functions over the documented JSON plan format: `resource_changes[].change` has `actions`,
`before`, `after` and `after_unknown`. A replacement (["delete","create"] or ["create","delete"])
counts as one add and one destroy, as Terraform's own "Plan:" line does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from tfgen.run.model import GrantDelta, PlanSummary, ReplicationDelta

REPLICATION = "aws_ecr_replication_configuration"
REGISTRY_POLICY = "aws_ecr_registry_policy"


def summarize(plan: Mapping[str, Any]) -> PlanSummary:
    add = change = destroy = 0
    replication: list[ReplicationDelta] = []
    grants: list[GrantDelta] = []
    for rc in _managed_changes(plan):
        actions = tuple(rc.get("change", {}).get("actions", ()))
        if actions in (("no-op",), ("read",), ()):
            continue
        add += "create" in actions
        destroy += "delete" in actions
        change += actions == ("update",)
        if rc.get("type") == REPLICATION:
            replication.append(replication_delta(rc))
        elif rc.get("type") == REGISTRY_POLICY:
            grants.append(grant_delta(rc))
    return PlanSummary(add, change, destroy, tuple(replication), tuple(grants))


def _managed_changes(plan: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for rc in plan.get("resource_changes") or ():
        if isinstance(rc, Mapping) and rc.get("mode", "managed") == "managed":
            yield rc


def _side(rc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = rc.get("change", {}).get(key)
    return value if isinstance(value, Mapping) else {}


def _unknown(rc: Mapping[str, Any], attr: str) -> bool:
    unknown = rc.get("change", {}).get("after_unknown")
    return isinstance(unknown, Mapping) and unknown.get(attr) is True


# --- aws_ecr_replication_configuration ------------------------------------------------------


def _rules(values: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    configs = values.get("replication_configuration") or []
    if not configs or not isinstance(configs[0], Mapping):
        return []
    return [r for r in configs[0].get("rule") or [] if isinstance(r, Mapping)]


def _destination(dest: Mapping[str, Any]) -> str:
    return f"{dest.get('registry_id', '?')}/{dest.get('region', '?')}"


def _rule_label(rule: Mapping[str, Any]) -> str:
    dests = sorted(_destination(d) for d in rule.get("destination") or [])
    filters = sorted(
        f"{f.get('filter_type', 'PREFIX_MATCH')}:{f.get('filter', '')}"
        for f in rule.get("repository_filter") or []
    )
    where = ", ".join(filters) if filters else "all repositories"
    return f"{where} -> {', '.join(dests) or 'no destination'}"


def replication_delta(rc: Mapping[str, Any]) -> ReplicationDelta:
    """Rules and destinations present after but not before (added) and the reverse (removed)."""
    before = _rules(_side(rc, "before"))
    after = _rules(_side(rc, "after"))
    rules_before = {_rule_label(r) for r in before}
    rules_after = {_rule_label(r) for r in after}
    dests_before = {_destination(d) for r in before for d in r.get("destination") or []}
    dests_after = {_destination(d) for r in after for d in r.get("destination") or []}
    return ReplicationDelta(
        address=str(rc.get("address", REPLICATION)),
        rules_added=tuple(sorted(rules_after - rules_before)),
        rules_removed=tuple(sorted(rules_before - rules_after)),
        destinations_added=tuple(sorted(dests_after - dests_before)),
        destinations_removed=tuple(sorted(dests_before - dests_after)),
        unknown_after=_unknown(rc, "replication_configuration"),
    )


# --- aws_ecr_registry_policy ----------------------------------------------------------------


def _statements(values: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    policy = values.get("policy")
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError:
            return []
    if not isinstance(policy, Mapping):
        return []
    statements = policy.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    return [s for s in statements if isinstance(s, Mapping)]


def _principals(statement: Mapping[str, Any]) -> set[str]:
    principal = statement.get("Principal")
    if isinstance(principal, str):
        return {principal}
    if not isinstance(principal, Mapping):
        return set()
    aws = principal.get("AWS", [])
    return {aws} if isinstance(aws, str) else {str(p) for p in aws}


def _grants(values: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    statements = _statements(values)
    principals = {p for s in statements for p in _principals(s)}
    sids = {str(s["Sid"]) for s in statements if s.get("Sid")}
    return principals, sids


def grant_delta(rc: Mapping[str, Any]) -> GrantDelta:
    """Principals (Principal.AWS) and statement Sids added and removed by the policy change."""
    principals_before, sids_before = _grants(_side(rc, "before"))
    principals_after, sids_after = _grants(_side(rc, "after"))
    return GrantDelta(
        address=str(rc.get("address", REGISTRY_POLICY)),
        principals_added=tuple(sorted(principals_after - principals_before)),
        principals_removed=tuple(sorted(principals_before - principals_after)),
        sids_added=tuple(sorted(sids_after - sids_before)),
        sids_removed=tuple(sorted(sids_before - sids_after)),
        unknown_after=_unknown(rc, "policy"),
    )


# --- serialised form (plan records and the JSON report) -------------------------------------


def as_dict(summary: PlanSummary) -> dict[str, Any]:
    return {
        "add": summary.add,
        "change": summary.change,
        "destroy": summary.destroy,
        "replication": [
            {
                "address": d.address,
                "rules_added": list(d.rules_added),
                "rules_removed": list(d.rules_removed),
                "destinations_added": list(d.destinations_added),
                "destinations_removed": list(d.destinations_removed),
                "unknown_after_apply": d.unknown_after,
            }
            for d in summary.replication
        ],
        "grants": [
            {
                "address": g.address,
                "principals_added": list(g.principals_added),
                "principals_removed": list(g.principals_removed),
                "sids_added": list(g.sids_added),
                "sids_removed": list(g.sids_removed),
                "unknown_after_apply": g.unknown_after,
            }
            for g in summary.grants
        ],
    }


def _strs(d: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(x) for x in d.get(key) or ())


def from_dict(data: Mapping[str, Any]) -> PlanSummary:
    return PlanSummary(
        add=int(data.get("add", 0)),
        change=int(data.get("change", 0)),
        destroy=int(data.get("destroy", 0)),
        replication=tuple(
            ReplicationDelta(
                address=str(d.get("address", "")),
                rules_added=_strs(d, "rules_added"),
                rules_removed=_strs(d, "rules_removed"),
                destinations_added=_strs(d, "destinations_added"),
                destinations_removed=_strs(d, "destinations_removed"),
                unknown_after=bool(d.get("unknown_after_apply")),
            )
            for d in data.get("replication") or ()
        ),
        grants=tuple(
            GrantDelta(
                address=str(g.get("address", "")),
                principals_added=_strs(g, "principals_added"),
                principals_removed=_strs(g, "principals_removed"),
                sids_added=_strs(g, "sids_added"),
                sids_removed=_strs(g, "sids_removed"),
                unknown_after=bool(g.get("unknown_after_apply")),
            )
            for g in data.get("grants") or ()
        ),
    )
