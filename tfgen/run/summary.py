"""An ECR-aware summary of a plan, as pure functions over Terraform's documented JSON formats.

Two sources, because `show -json` costs a second provider start per stack:
- the machine-readable UI stream of `plan -json` (Terraform >= 0.15.3, OpenTofu): counts and one
  `planned_change` per resource, enough for every stack;
- the JSON plan of `show -json PLANFILE`, read only when an ECR resource changes: its
  `resource_changes[].change` has `actions`, `before`, `after` and `after_unknown`.
A replacement counts as one add and one destroy, as Terraform's own "Plan:" line does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from tfgen.run.model import GrantDelta, PlanSummary, ReplicationDelta, ResourceChange

REPLICATION = "aws_ecr_replication_configuration"
REGISTRY_POLICY = "aws_ecr_registry_policy"
ECR_TYPES = frozenset({REPLICATION, REGISTRY_POLICY})

# --- the `plan -json` stream ----------------------------------------------------------------


@dataclass(frozen=True)
class StreamFacts:
    """What a plan's `-json` UI stream says: the summary and any error diagnostics."""

    summary: PlanSummary
    errors: tuple[str, ...] = ()


def json_message(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        return None
    return message if isinstance(message, dict) else None


def human_line(line: str) -> str:
    """A stream line as a person reads it: the `@message`, plus a diagnostic's detail."""
    message = json_message(line)
    if message is None:
        return line
    text = str(message.get("@message", ""))
    diagnostic = message.get("diagnostic")
    if isinstance(diagnostic, Mapping) and diagnostic.get("detail"):
        text += "\n" + str(diagnostic["detail"])
    return text + "\n"


def parse_stream(lines: Iterable[str]) -> StreamFacts:
    """Counts from `change_summary`, resources from `planned_change`, errors from diagnostics."""
    counts = {"add": 0, "change": 0, "remove": 0}
    resources: list[ResourceChange] = []
    errors: list[str] = []
    for line in lines:
        message = json_message(line)
        if message is None:
            continue
        kind = message.get("type")
        if kind == "change_summary" and isinstance(message.get("changes"), Mapping):
            for key in counts:
                counts[key] = int(message["changes"].get(key, 0))
        elif kind == "planned_change" and isinstance(message.get("change"), Mapping):
            change = message["change"]
            res = change.get("resource") if isinstance(change.get("resource"), Mapping) else {}
            resources.append(
                ResourceChange(
                    address=str(res.get("addr", "")),
                    type=str(res.get("resource_type", "")),
                    action=str(change.get("action", "")),
                )
            )
        elif kind == "diagnostic" and message.get("@level") == "error":
            errors.append(human_line(line).strip())
    summary = PlanSummary(
        add=counts["add"],
        change=counts["change"],
        destroy=counts["remove"],
        resources=tuple(resources),
    )
    return StreamFacts(summary, tuple(errors))


def needs_show(summary: PlanSummary) -> bool:
    """Only ECR resources need the before/after values that `show -json` has."""
    return any(r.type in ECR_TYPES for r in summary.resources)


def with_ecr(summary: PlanSummary, plan: Mapping[str, Any]) -> PlanSummary:
    detailed = summarize(plan)
    return replace(summary, replication=detailed.replication, grants=detailed.grants)


# --- the `show -json` plan --------------------------------------------------------------------

_ACTIONS = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "delete",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
}


def summarize(plan: Mapping[str, Any]) -> PlanSummary:
    add = change = destroy = 0
    replication: list[ReplicationDelta] = []
    grants: list[GrantDelta] = []
    resources: list[ResourceChange] = []
    for rc in _managed_changes(plan):
        actions = tuple(rc.get("change", {}).get("actions", ()))
        if actions not in _ACTIONS:  # no-op, read
            continue
        add += "create" in actions
        destroy += "delete" in actions
        change += actions == ("update",)
        resources.append(
            ResourceChange(str(rc.get("address", "")), str(rc.get("type", "")), _ACTIONS[actions])
        )
        if rc.get("type") == REPLICATION:
            replication.append(replication_delta(rc))
        elif rc.get("type") == REGISTRY_POLICY:
            grants.append(grant_delta(rc))
    return PlanSummary(add, change, destroy, tuple(replication), tuple(grants), tuple(resources))


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
        "resources": [
            {"address": r.address, "type": r.type, "action": r.action} for r in summary.resources
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
        resources=tuple(
            ResourceChange(
                str(r.get("address", "")), str(r.get("type", "")), str(r.get("action", ""))
            )
            for r in data.get("resources") or ()
        ),
    )
