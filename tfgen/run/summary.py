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

from tfgen.run.model import (
    GrantDelta,
    PlanSummary,
    ReplicationDelta,
    ResourceChange,
    TemplateDelta,
)

REPLICATION = "aws_ecr_replication_configuration"
REGISTRY_POLICY = "aws_ecr_registry_policy"
CREATION_TEMPLATE = "aws_ecr_repository_creation_template"
ECR_TYPES = frozenset({REPLICATION, REGISTRY_POLICY, CREATION_TEMPLATE})

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
    counts = {"add": 0, "change": 0, "remove": 0, "import": 0}
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
        imported=counts["import"],
        resources=tuple(resources),
    )
    return StreamFacts(summary, tuple(errors))


def needs_show(summary: PlanSummary) -> bool:
    """Only ECR resources need the before/after values that `show -json` has."""
    return any(r.type in ECR_TYPES for r in summary.resources)


def with_ecr(summary: PlanSummary, plan: Mapping[str, Any]) -> PlanSummary:
    detailed = summarize(plan)
    return replace(
        summary,
        replication=detailed.replication,
        grants=detailed.grants,
        templates=detailed.templates,
    )


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
    templates: list[TemplateDelta] = []
    resources: list[ResourceChange] = []
    registries = _Registries(plan)
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
        registry = registries.of(rc)
        if rc.get("type") == REPLICATION:
            replication.append(replication_delta(rc, registry))
        elif rc.get("type") == REGISTRY_POLICY:
            grants.append(grant_delta(rc, registry))
        elif rc.get("type") == CREATION_TEMPLATE:
            templates.append(template_delta(rc, registry, _ACTIONS[actions]))
    return PlanSummary(
        add,
        change,
        destroy,
        tuple(replication),
        tuple(grants),
        tuple(resources),
        tuple(templates),
    )


class _Registries:
    """The registry (ACCOUNT_ID/REGION) a resource change acts on, from the plan's own
    configuration: the resource's `provider_config_key` names a root provider whose `region` and
    `allowed_account_ids` tfgen renders as constants. A module removed from the configuration
    (its resources planned for deletion) is matched to a provider by the alias in its name."""

    def __init__(self, plan: Mapping[str, Any]) -> None:
        configuration = plan.get("configuration")
        configuration = configuration if isinstance(configuration, Mapping) else {}
        providers = configuration.get("provider_config")
        self.providers: Mapping[str, Any] = providers if isinstance(providers, Mapping) else {}
        self.keys: dict[str, str] = {}
        root = configuration.get("root_module")
        if isinstance(root, Mapping):
            self._walk(root, "")

    def _walk(self, module: Mapping[str, Any], prefix: str) -> None:
        for resource in module.get("resources") or ():
            if isinstance(resource, Mapping) and resource.get("provider_config_key"):
                self.keys[prefix + str(resource.get("address"))] = str(
                    resource["provider_config_key"]
                )
        for name, call in (module.get("module_calls") or {}).items():
            child = call.get("module") if isinstance(call, Mapping) else None
            if isinstance(child, Mapping):
                self._walk(child, f"{prefix}module.{name}.")

    def _provider(self, rc: Mapping[str, Any]) -> Mapping[str, Any]:
        module = str(rc.get("module_address") or "")
        config_address = f"{module + '.' if module else ''}{rc.get('type')}.{rc.get('name')}"
        key = self.keys.get(config_address)
        if key is None:  # the module call is gone: its name ends with the provider alias
            name = module.rsplit(".", 1)[-1]
            aliases = sorted(
                (k for k in self.providers if k.startswith("aws.")), key=len, reverse=True
            )
            key = next(
                (k for k in aliases if name.endswith("_" + k[4:]) or f"_{k[4:]}_" in name),
                None,
            )
        provider = self.providers.get(key) if key else None
        return provider if isinstance(provider, Mapping) else {}

    def of(self, rc: Mapping[str, Any]) -> str:
        expressions = self._provider(rc).get("expressions") or {}
        region = _constant(expressions.get("region"))
        allowed = _constant(expressions.get("allowed_account_ids"))
        account = allowed[0] if isinstance(allowed, list) and len(allowed) == 1 else None
        for side in ("after", "before"):
            values = _side(rc, side)
            if not account and isinstance(values.get("registry_id"), str):
                account = values["registry_id"]
        if not isinstance(region, str) or not account:
            return ""
        return f"{account}/{region}"


def _constant(expression: Any) -> Any:
    return expression.get("constant_value") if isinstance(expression, Mapping) else None


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


def replication_delta(rc: Mapping[str, Any], registry: str = "") -> ReplicationDelta:
    """Rules and destinations present after but not before (added) and the reverse (removed)."""
    before = _rules(_side(rc, "before"))
    after = _rules(_side(rc, "after"))
    rules_before = {_rule_label(r) for r in before}
    rules_after = {_rule_label(r) for r in after}
    dests_before = {_destination(d) for r in before for d in r.get("destination") or []}
    dests_after = {_destination(d) for r in after for d in r.get("destination") or []}
    return ReplicationDelta(
        address=str(rc.get("address", REPLICATION)),
        registry=registry,
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


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if isinstance(v, str)]


def access(values: Mapping[str, Any]) -> set[str]:
    """`PRINCIPAL -> RESOURCE (ACTIONS)` for each principal and resource of each Allow statement,
    the resource without the registry's ARN (a registry policy names only its own repositories)."""
    out = set()
    for statement in _statements(values):
        if statement.get("Effect") != "Allow":
            continue
        actions = ", ".join(sorted(_strings(statement.get("Action"))))
        for resource in _strings(statement.get("Resource")):
            short = resource.split(":", 5)[5] if resource.startswith("arn:") else resource
            out |= {f"{p} -> {short} ({actions})" for p in _principals(statement)}
    return out


def grant_delta(rc: Mapping[str, Any], registry: str = "") -> GrantDelta:
    """Principals (Principal.AWS), statement Sids and access (principal, resource, actions)
    added and removed by the policy change."""
    principals_before, sids_before = _grants(_side(rc, "before"))
    principals_after, sids_after = _grants(_side(rc, "after"))
    return GrantDelta(
        address=str(rc.get("address", REGISTRY_POLICY)),
        registry=registry,
        principals_added=tuple(sorted(principals_after - principals_before)),
        principals_removed=tuple(sorted(principals_before - principals_after)),
        sids_added=tuple(sorted(sids_after - sids_before)),
        sids_removed=tuple(sorted(sids_before - sids_after)),
        unknown_after=_unknown(rc, "policy"),
        access_added=tuple(sorted(access(_side(rc, "after")) - access(_side(rc, "before")))),
        access_removed=tuple(sorted(access(_side(rc, "before")) - access(_side(rc, "after")))),
    )


# --- aws_ecr_repository_creation_template --------------------------------------------------

# Computed attributes, not settings: they never count as a changed setting.
_TEMPLATE_COMPUTED = frozenset({"id", "registry_id", "tags_all", "region"})


def template_delta(rc: Mapping[str, Any], registry: str, action: str) -> TemplateDelta:
    """The template's prefix and, for an update, the settings whose values differ."""
    before, after = _side(rc, "before"), _side(rc, "after")
    prefix = after.get("prefix") or before.get("prefix") or ""
    changed: tuple[str, ...] = ()
    if action in ("update", "replace"):
        keys = (set(before) | set(after)) - _TEMPLATE_COMPUTED
        changed = tuple(sorted(k for k in keys if before.get(k) != after.get(k)))
    return TemplateDelta(
        address=str(rc.get("address", CREATION_TEMPLATE)),
        registry=registry,
        prefix=str(prefix),
        action=action,
        settings_changed=changed,
    )


# --- serialised form (plan records and the JSON report) -------------------------------------


def as_dict(summary: PlanSummary) -> dict[str, Any]:
    return {
        "add": summary.add,
        "import": summary.imported,
        "change": summary.change,
        "destroy": summary.destroy,
        "replication": [
            {
                "address": d.address,
                "registry": d.registry,
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
                "registry": g.registry,
                "principals_added": list(g.principals_added),
                "principals_removed": list(g.principals_removed),
                "sids_added": list(g.sids_added),
                "sids_removed": list(g.sids_removed),
                "access_added": list(g.access_added),
                "access_removed": list(g.access_removed),
                "unknown_after_apply": g.unknown_after,
            }
            for g in summary.grants
        ],
        "templates": [
            {
                "address": t.address,
                "registry": t.registry,
                "prefix": t.prefix,
                "action": t.action,
                "settings_changed": list(t.settings_changed),
            }
            for t in summary.templates
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
        imported=int(data.get("import", 0)),
        change=int(data.get("change", 0)),
        destroy=int(data.get("destroy", 0)),
        replication=tuple(
            ReplicationDelta(
                address=str(d.get("address", "")),
                registry=str(d.get("registry", "")),
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
                registry=str(g.get("registry", "")),
                principals_added=_strs(g, "principals_added"),
                principals_removed=_strs(g, "principals_removed"),
                sids_added=_strs(g, "sids_added"),
                sids_removed=_strs(g, "sids_removed"),
                unknown_after=bool(g.get("unknown_after_apply")),
                access_added=_strs(g, "access_added"),
                access_removed=_strs(g, "access_removed"),
            )
            for g in data.get("grants") or ()
        ),
        resources=tuple(
            ResourceChange(
                str(r.get("address", "")), str(r.get("type", "")), str(r.get("action", ""))
            )
            for r in data.get("resources") or ()
        ),
        templates=tuple(
            TemplateDelta(
                address=str(t.get("address", "")),
                registry=str(t.get("registry", "")),
                prefix=str(t.get("prefix", "")),
                action=str(t.get("action", "")),
                settings_changed=_strs(t, "settings_changed"),
            )
            for t in data.get("templates") or ()
        ),
    )
