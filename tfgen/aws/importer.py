"""`tfgen import`: the live registries of some accounts and Regions → a spec v1 document.

Replication rules become `replication` entries: one per distinct rule (destinations and filters)
of a source account, listing every Region whose registry has that rule. Entries are ordered so
that compiling them gives every registry its rules in the live order; when two registries order
the same rules differently, that account gets one entry per rule and Region instead. Destinations
keep their live order too (consecutive destinations in one account share a `to` item), so the
compiled state equals the live one rule for rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfgen.aws import canonical
from tfgen.aws.import_policies import import_policies
from tfgen.aws.import_templates import import_templates
from tfgen.aws.live import LiveRegistry
from tfgen.errors import TfgenError
from tfgen.state import minimal_prefixes

RuleId = tuple[tuple[canonical.Destination, ...], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Imported:
    """A spec document built from live registries, with notes on what it cannot reproduce."""

    data: dict[str, Any]  # the spec v1 document
    notes: tuple[str, ...]  # where the spec will not reproduce the live state exactly, and why


class Flow(dict[str, Any]):
    """A mapping written on one line in YAML (`{account: prod, regions: [us-east-1]}`)."""


def build_spec(
    accounts: Mapping[str, str],
    live: Sequence[LiveRegistry],
    *,
    role_arn: str | None,
    partition: str,
) -> Imported:
    """The spec for these live registries of `accounts` (name → id)."""
    names = {account_id: name for name, account_id in accounts.items()}
    notes: list[str] = []
    entries = []
    wanted: dict[tuple[str, str], dict[str, list[str]]] = {}
    for name, account_id in accounts.items():
        mine = [r for r in live if r.account_id == account_id]
        rules = {r.region: _rules(r, names, notes) for r in mine}
        for ids in rules.values():
            for dests, filters in ids:
                for dest_region, dest_id in dests:
                    if dest_id != account_id:
                        into = wanted.setdefault((dest_id, dest_region), {})
                        into.setdefault(account_id, []).extend(filters or [""])
        entries.extend(_entries(name, rules, names))
    sources = {
        key: {i: minimal_prefixes(f) for i, f in by_source.items()}
        for key, by_source in wanted.items()
    }
    policies = import_policies(live, names, sources, partition)
    notes.extend(policies.notes)
    templates = import_templates(live, names, notes)
    data: dict[str, Any] = {"version": 1}
    if role_arn is not None:
        data["defaults"] = {"role_arn": role_arn}
    data["accounts"] = {
        name: _account(i, partition, policies.grants.get(name)) for name, i in accounts.items()
    }
    if entries:
        data["replication"] = entries
    if policies.registry_policies:
        data["registry_policies"] = policies.registry_policies
    if templates:
        data["creation_templates"] = templates
    return Imported(data, tuple(notes))


def _account(account_id: str, partition: str, grants: dict[str, Any] | None) -> Flow:
    out = Flow({"id": account_id})
    if partition != "aws":
        out["partition"] = partition
    if grants:
        out["grants"] = Flow(grants)
    return out


def _rules(registry: LiveRegistry, names: Mapping[str, str], notes: list[str]) -> list[RuleId]:
    out: list[RuleId] = []
    config = registry.replication_configuration or {}
    for k, rule in enumerate(config.get("rules", [])):
        dests = tuple(canonical.rule_destinations(rule))
        for region, dest_id in dests:
            if dest_id not in names:
                raise TfgenError(
                    f"{registry.label} replicates to account {dest_id} ({region}), which is not "
                    f"among the --account options; add --account NAME={dest_id}"
                )
        filters = tuple(canonical.rule_filters(rule))
        odd = [f for f in filters if ":" in f]
        if odd:
            raise TfgenError(
                f"{registry.label} rule {k + 1} has filters of a type tfgen does not know "
                f"({', '.join(odd)}); spec v1 has PREFIX_MATCH filters only"
            )
        if not dests:
            notes.append(f"{registry.label}: rule {k + 1} has no destination and is left out")
            continue
        out.append((dests, filters))
    return out


def _entries(
    account: str, rules: Mapping[str, list[RuleId]], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    order = _merged_order(rules)
    if order is None:  # registries disagree on the order: one entry per rule and Region
        return [
            _entry(account, [region], rule, names) for region, ids in rules.items() for rule in ids
        ]
    return [
        _entry(account, [r for r, ids in rules.items() if rule in ids], rule, names)
        for rule in order
    ]


def _merged_order(rules: Mapping[str, list[RuleId]]) -> list[RuleId] | None:
    """One order of all distinct rules that keeps each registry's own order, or None."""
    seen: list[RuleId] = []
    after: dict[RuleId, set[RuleId]] = {}
    for ids in rules.values():
        if len(set(ids)) != len(ids):
            return None  # a registry with the same rule twice cannot share entries
        for rule in ids:
            if rule not in seen:
                seen.append(rule)
        for a, b in itertools.pairwise(ids):
            after.setdefault(b, set()).add(a)
    order: list[RuleId] = []
    while len(order) < len(seen):
        ready = next(
            (r for r in seen if r not in order and after.get(r, set()) <= set(order)), None
        )
        if ready is None:
            return None  # a cycle: two registries order the same rules differently
        order.append(ready)
    return order


def _entry(
    account: str, regions: list[str], rule: RuleId, names: Mapping[str, str]
) -> dict[str, Any]:
    dests, filters = rule
    to: list[Flow] = []
    for region, dest_id in dests:
        name = names[dest_id]
        if to and to[-1]["account"] == name:
            to[-1]["regions"].append(region)
        else:
            to.append(Flow({"account": name, "regions": [region]}))
    entry: dict[str, Any] = {"from": Flow({"account": account, "regions": regions}), "to": to}
    if filters:
        entry["filters"] = list(filters)
    return entry


__all__ = ["Flow", "Imported", "build_spec"]
