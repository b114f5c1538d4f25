"""What a plan should change, in the words of tfgen's ECR plan summary, from two registry lists in
`tfgen compile --json` shape (before, after); and what a plan report says it changes.

A registry is `ACCOUNT_ID/REGION`. A rule is named as the summary names it: its filters
(`PREFIX_MATCH:team-a/`, or `all repositories`) `->` its destinations (`ACCOUNT_ID/REGION`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

# registry → set of facts ("rule+ ...", "grant- PRINCIPAL", "sid+ SID", "access- PRINCIPAL ->
# repository/... (ACTIONS)", "template~ PREFIX")
Facts = dict[str, set[str]]


def _rule_label(rule: Mapping[str, Any]) -> str:
    dests = sorted(f"{d['registryId']}/{d['region']}" for d in rule["destinations"])
    filters = sorted(
        f"{f.get('filterType', 'PREFIX_MATCH')}:{f['filter']}"
        for f in rule.get("repositoryFilters") or []
    )
    return f"{', '.join(filters) if filters else 'all repositories'} -> {', '.join(dests)}"


def _principals(policy: Mapping[str, Any] | None) -> set[str]:
    found: set[str] = set()
    for statement in (policy or {}).get("Statement", []):
        aws = (statement.get("Principal") or {}).get("AWS", [])
        found.update([aws] if isinstance(aws, str) else aws)
    return found


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _sids(policy: Mapping[str, Any] | None) -> set[str]:
    return {s["Sid"] for s in (policy or {}).get("Statement", []) if s.get("Sid")}


def _access(policy: Mapping[str, Any] | None) -> set[str]:
    """ "PRINCIPAL -> repository/... (ACTIONS)" for every principal and resource of an Allow."""
    found: set[str] = set()
    for statement in (policy or {}).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = ", ".join(sorted(_list(statement.get("Action"))))
        principals = _list((statement.get("Principal") or {}).get("AWS"))
        for resource in _list(statement.get("Resource")):
            short = resource.split(":", 5)[5] if resource.startswith("arn:") else resource
            found |= {f"{p} -> {short} ({actions})" for p in principals}
    return found


def _templates(registry: Mapping[str, Any]) -> dict[str, str]:
    def canonical(t: Mapping[str, Any]) -> str:
        t = dict(t)
        for key in ("lifecyclePolicy", "repositoryPolicy"):
            if isinstance(t.get(key), str):
                t[key] = json.loads(t[key])
        t["appliedFor"] = sorted(t.get("appliedFor", []))
        return json.dumps(t, sort_keys=True)

    return {t["prefix"]: canonical(t) for t in registry.get("creation_templates") or []}


def _key(registry: Mapping[str, Any]) -> str:
    return f"{registry['account_id']}/{registry['region']}"


def expected(before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]]) -> Facts:
    """The facts a plan from `before` to `after` must report, per registry."""
    old = {_key(r): r for r in before}
    new = {_key(r): r for r in after}
    facts: Facts = defaultdict(set)
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key, {}), new.get(key, {})
        rules_a = {
            _rule_label(r) for r in (a.get("replication_configuration") or {}).get("rules", [])
        }
        rules_b = {
            _rule_label(r) for r in (b.get("replication_configuration") or {}).get("rules", [])
        }
        facts[key] |= {f"rule+ {r}" for r in rules_b - rules_a}
        facts[key] |= {f"rule- {r}" for r in rules_a - rules_b}
        policy_a, policy_b = a.get("registry_policy"), b.get("registry_policy")
        grants = {
            f"grant{sign} {p}"
            for sign, x, y in (("+", policy_b, policy_a), ("-", policy_a, policy_b))
            for p in _principals(x) - _principals(y)
        }
        grants |= {
            f"sid{sign} {p}"
            for sign, x, y in (("+", policy_b, policy_a), ("-", policy_a, policy_b))
            for p in _sids(x) - _sids(y)
        }
        grants |= {
            f"access{sign} {p}"
            for sign, x, y in (("+", policy_b, policy_a), ("-", policy_a, policy_b))
            for p in _access(x) - _access(y)
        }
        facts[key] |= grants
        if policy_a != policy_b and not grants:
            facts[key].add("policy~")
        tpl_a, tpl_b = _templates(a), _templates(b)
        facts[key] |= {f"template+ {p}" for p in tpl_b.keys() - tpl_a.keys()}
        facts[key] |= {f"template- {p}" for p in tpl_a.keys() - tpl_b.keys()}
        facts[key] |= {
            f"template~ {p}" for p in tpl_a.keys() & tpl_b.keys() if tpl_a[p] != tpl_b[p]
        }
    return {k: v for k, v in facts.items() if v}


def observed(report: Mapping[str, Any]) -> Facts:
    """The facts a plan report states, per registry (every delta must name its registry)."""
    facts: Facts = defaultdict(set)
    for stack in report["stacks"]:
        summary = stack.get("summary") or {}
        for d in summary.get("replication", []):
            assert d["registry"], d
            facts[d["registry"]] |= {f"rule+ {r}" for r in d["rules_added"]}
            facts[d["registry"]] |= {f"rule- {r}" for r in d["rules_removed"]}
        for g in summary.get("grants", []):
            assert g["registry"], g
            said = {f"grant+ {p}" for p in g["principals_added"]}
            said |= {f"grant- {p}" for p in g["principals_removed"]}
            said |= {f"sid+ {p}" for p in g["sids_added"]}
            said |= {f"sid- {p}" for p in g["sids_removed"]}
            said |= {f"access+ {p}" for p in g["access_added"]}
            said |= {f"access- {p}" for p in g["access_removed"]}
            facts[g["registry"]] |= said or {"policy~"}
        for t in summary.get("templates", []):
            assert t["registry"], t
            sign = {"create": "+", "delete": "-"}.get(t["action"], "~")
            facts[t["registry"]].add(f"template{sign} {t['prefix']}")
    return {k: v for k, v in facts.items() if v}
