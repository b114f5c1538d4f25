"""What differs between one live registry and its desired state: rules, policy, templates.

Rules and statements are matched by meaning (canonical.py), so order and spelling that ECR and
IAM treat alike never show up; what is left is reported item by item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tfgen.aws import canonical
from tfgen.aws.live import LiveRegistry
from tfgen.grants import (
    Access,
    GrantForm,
    Registry,
    allowed,
    covered,
    form_access,
    grant_form,
    union,
)
from tfgen.state import DesiredRegistry, is_grant_sid


@dataclass(frozen=True, slots=True)
class Difference:
    """One way a live registry differs from its desired state."""

    setting: str  # "replication", "registry policy" or "creation template"
    item: str  # which rule, statement or template
    change: str  # "missing", "unexpected" or "changed"
    detail: str
    desired: Any = None
    live: Any = None

    def format(self) -> str:
        return f"{self.setting} {self.item}: {self.change}" + (
            f": {self.detail}" if self.detail else ""
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "item": self.item,
            "change": self.change,
            "detail": self.detail,
            "desired": self.desired,
            "live": self.live,
        }


@dataclass(slots=True)
class Findings:
    """Differences (drift) and notes (not drift) found in one registry."""

    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: Any) -> None:
        self.differences.append(Difference(*args))


def _filters_label(filters: Sequence[str]) -> str:
    return f"filters {', '.join(filters)}" if filters else "all repositories"


def _dest_label(dests: Sequence[canonical.Destination] | frozenset[canonical.Destination]) -> str:
    return ", ".join(f"{registry}/{region}" for region, registry in sorted(dests, key=_by_id))


def _by_id(d: canonical.Destination) -> tuple[str, str]:
    return d[1], d[0]


def compare_rules(desired: DesiredRegistry, live: LiveRegistry, out: Findings) -> None:
    config = desired.replication_configuration()
    want: list[dict[str, Any]] = config["rules"] if config else []
    have: list[dict[str, Any]] = (live.replication_configuration or {}).get("rules", [])
    if not want:
        if have:
            out.notes.append(
                f"has {len(have)} replication rule(s) tfgen does not manage (it replicates "
                "nothing from this registry)"
            )
        return
    if not have:
        out.add("replication", "configuration", "missing", "the registry has no replication rules")
        return
    left = list(enumerate(have))
    unmatched: list[tuple[int, dict[str, Any]]] = []
    for i, rule in enumerate(want):
        hit = next((k for k, (_, r) in enumerate(left) if _same_rule(r, rule)), None)
        if hit is None:
            unmatched.append((i, rule))
        else:
            left.pop(hit)
    for i, rule in unmatched:
        _rule_difference(i, rule, left, out)
    for j, rule in left:
        out.add(
            "replication",
            f"live rule {j + 1} ({_filters_label(canonical.rule_filters(rule))})",
            "unexpected",
            f"replicates to {_dest_label(canonical.rule_destinations(rule))}",
            None,
            rule,
        )
    if not out.differences and [_api_rule(r) for r in have] != [_api_rule(r) for r in want]:
        out.notes.append(
            "the rules (or their destinations or filters) are in another order than tfgen "
            "writes them: not drift for ECR, but Terraform's next plan shows an in-place update"
        )


def _same_rule(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return canonical.rule_key(a) == canonical.rule_key(b)


def _api_rule(rule: Mapping[str, Any]) -> tuple[list[canonical.Destination], list[str]]:
    return canonical.rule_destinations(rule), canonical.rule_filters(rule)


def _rule_difference(
    index: int,
    rule: dict[str, Any],
    left: list[tuple[int, dict[str, Any]]],
    out: Findings,
) -> None:
    """Pair a desired rule with a live one of the same filters (or destinations), or report it missing."""
    dests, filters = canonical.rule_key(rule)
    label = f"rule {index + 1} ({_filters_label(canonical.rule_filters(rule))})"
    for k, (_, live_rule) in enumerate(left):
        live_dests, live_filters = canonical.rule_key(live_rule)
        if live_filters == filters:
            parts = []
            if dests - live_dests:
                parts.append(f"destinations missing: {_dest_label(dests - live_dests)}")
            if live_dests - dests:
                parts.append(f"unexpected destinations: {_dest_label(live_dests - dests)}")
            out.add("replication", label, "changed", "; ".join(parts), rule, live_rule)
            left.pop(k)
            return
        if live_dests == dests:
            parts = []
            if filters - live_filters:
                parts.append(f"filters missing: {', '.join(sorted(filters - live_filters))}")
            if live_filters - filters:
                extra = ", ".join(sorted(live_filters - filters))
                parts.append(f"unexpected filters: {extra}")
            if not filters:
                parts.append("tfgen's rule has no filter (all repositories)")
            out.add("replication", label, "changed", "; ".join(parts), rule, live_rule)
            left.pop(k)
            return
    out.add(
        "replication",
        label,
        "missing",
        f"no live rule replicates to {_dest_label(canonical.rule_destinations(rule))}",
        rule,
        None,
    )


def _sid(stmt: Mapping[str, Any], index: int) -> str:
    sid = stmt.get("Sid")
    return f"'{sid}'" if isinstance(sid, str) and sid else f"#{index + 1} (no Sid)"


def compare_policy(desired: DesiredRegistry, live: LiveRegistry, out: Findings) -> None:
    """Statements matched by meaning; tfgen's grants also by what they allow each source
    account, so a grant spelled or packed otherwise is told apart from one that allows more or
    less (and the wide `repository/*` form from the scoped one)."""
    want_doc = desired.registry_policy()
    have_doc = live.registry_policy
    if want_doc is None:
        if have_doc is not None:
            out.notes.append("has a registry policy tfgen does not manage (it grants nothing here)")
        return
    if have_doc is None:
        out.add("registry policy", "document", "missing", "the registry has no registry policy")
        return
    partition = desired.partition
    registry = Registry(partition, desired.region, desired.account_id)
    if (have_doc.get("Version") or "2008-10-17") != want_doc["Version"]:
        out.add(
            "registry policy",
            "Version",
            "changed",
            f"live {have_doc.get('Version')!r}, tfgen writes {want_doc['Version']!r}",
            want_doc["Version"],
            have_doc.get("Version"),
        )
    want = canonical.statements(want_doc)
    have = list(canonical.statements(have_doc))
    unmatched: list[tuple[int, Mapping[str, Any]]] = []
    granted: list[Mapping[str, Any]] = []  # live statements that are tfgen's grants exactly
    for i, stmt in enumerate(want):
        key = canonical.statement_key(stmt, partition)
        hit = next(
            (k for k, s in enumerate(have) if canonical.statement_key(s, partition) == key), None
        )
        if hit is None:
            unmatched.append((i, stmt))
        elif is_grant_sid(stmt.get("Sid")):
            granted.append(have.pop(hit))
        else:
            have.pop(hit)
    grants_differ = False
    for i, stmt in unmatched:
        grant = is_grant_sid(stmt.get("Sid"))
        same_sid = next(
            (
                k
                for k, s in enumerate(have)
                if stmt.get("Sid")
                and s.get("Sid") == stmt["Sid"]
                and not (grant and grant_form(s, registry))
            ),
            None,
        )
        if same_sid is not None:
            live_stmt = have.pop(same_sid)
            detail = _statement_changes(stmt, live_stmt, partition)
            out.add(
                "registry policy", f"statement {_sid(stmt, i)}", "changed", detail, stmt, live_stmt
            )
        elif grant:
            grants_differ = True
        else:
            out.add("registry policy", f"statement {_sid(stmt, i)}", "missing", "", stmt, None)
    live_grants = [s for s in have if grant_form(s, registry)]
    if grants_differ or live_grants:
        ours = [s for s in want if is_grant_sid(s.get("Sid"))]
        theirs = [*granted, *live_grants]
        _compare_grants(ours, theirs, canonical.statements(have_doc), registry, out)
        have = [s for s in have if not grant_form(s, registry)]
    for j, stmt in enumerate(have):
        out.add("registry policy", f"statement {_sid(stmt, j)}", "unexpected", "", None, stmt)


def _compare_grants(
    ours: Sequence[Mapping[str, Any]],
    theirs: Sequence[Mapping[str, Any]],
    everything: Sequence[Mapping[str, Any]],
    registry: Registry,
    out: Findings,
) -> None:
    """tfgen's grant statements against the live statements that only grant replication:
    source account by source account, what each allows."""
    forms = {id(s): grant_form(s, registry) for s in [*ours, *theirs]}
    accounts = sorted({a for f in forms.values() if f for a in f.accounts})
    found = False
    for account in accounts:
        want = _grant_access(ours, account, forms)
        have = _grant_access(theirs, account, forms)
        if want == have:
            continue
        found = True
        sids = [str(s.get("Sid") or "(no Sid)") for s in theirs if _names(s, account, forms)]
        where = f" (live statement {', '.join(sids)})" if sids else ""
        if not have:
            elsewhere = union(*(allowed(s, account, registry) for s in everything))
            also = (
                "other live statements allow as much"
                if all(
                    all(covered(p, elsewhere.get(action, ())) for p in prefixes)
                    for action, prefixes in want.items()
                )
                else "the live policy does not"
            )
            change, detail = "missing", f"tfgen allows {_access_words(want)}; {also}"
        elif not want:
            change, detail = "unexpected", f"the live policy allows {_access_words(have)}{where}"
        else:
            change = "changed"
            detail = f"live {_access_words(have)}{where}; tfgen {_access_words(want)}"
        out.add("registry policy", f"grant to {account}", change, detail, _json(want), _json(have))
    if not found:
        out.add(
            "registry policy",
            "replication grants",
            "changed",
            "the same permissions, in other statements: live "
            f"{', '.join(str(s.get('Sid') or '(no Sid)') for s in theirs)}; tfgen writes "
            f"{', '.join(str(s.get('Sid')) for s in ours)}",
            list(ours),
            list(theirs),
        )


def _names(stmt: Mapping[str, Any], account: str, forms: Mapping[int, GrantForm | None]) -> bool:
    form = forms[id(stmt)]
    return form is not None and account in form.accounts


def _grant_access(
    statements: Sequence[Mapping[str, Any]], account: str, forms: Mapping[int, GrantForm | None]
) -> Access:
    return union(
        *(form_access(f) for s in statements if (f := forms[id(s)]) and account in f.accounts)
    )


def _access_words(access: Access) -> str:
    by_prefixes: dict[tuple[str, ...], list[str]] = {}
    for action in sorted(access):
        by_prefixes.setdefault(access[action], []).append(action)
    return "; ".join(
        f"{', '.join(actions)} on {', '.join(f'repository/{p}*' for p in prefixes)}"
        for prefixes, actions in by_prefixes.items()
    )


def _json(access: Access) -> dict[str, list[str]]:
    return {action: [f"repository/{p}*" for p in prefixes] for action, prefixes in access.items()}


def _statement_changes(want: Mapping[str, Any], have: Mapping[str, Any], partition: str) -> str:
    a = canonical.statement(want, partition)
    b = canonical.statement(have, partition)
    parts = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) == b.get(key):
            continue
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict) and list(x) == list(y) == ["AWS"]:
            x, y = x["AWS"], y["AWS"]
        if isinstance(x, list) and isinstance(y, list):
            missing = [v for v in x if v not in y]
            extra = [v for v in y if v not in x]
            what = [f"missing {', '.join(map(str, missing))}"] if missing else []
            what += [f"unexpected {', '.join(map(str, extra))}"] if extra else []
            parts.append(f"{key} {'; '.join(what)}")
        else:
            parts.append(f"{key} is {y!r} live, {x!r} in tfgen")
    return "; ".join(parts)


def compare_templates(desired: DesiredRegistry, live: LiveRegistry, out: Findings) -> None:
    if not desired.creation_templates:
        return
    if live.creation_templates is None:
        out.notes.append(live.templates_note or "creation templates not checked")
        return
    partition = desired.partition
    have = {t.get("prefix"): t for t in live.creation_templates}
    for t in desired.creation_templates:
        want_api = t.to_api()
        live_api = have.pop(t.prefix, None)
        if live_api is None:
            out.add("creation template", f"'{t.prefix}'", "missing", "", want_api, None)
            continue
        a = canonical.template(want_api, partition)
        b = canonical.template(live_api, partition)
        changed = [k for k in a if a[k] != b[k]]
        if changed:
            detail = "; ".join(f"{k} is {b[k]!r} live, {a[k]!r} in tfgen" for k in changed)
            out.add("creation template", f"'{t.prefix}'", "changed", detail, want_api, live_api)
    if have:
        out.notes.append(
            "has creation templates tfgen does not manage: " + ", ".join(sorted(map(str, have)))
        )


__all__ = ["Difference", "Findings", "compare_policy", "compare_rules", "compare_templates"]
