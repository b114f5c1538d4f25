"""Compiled desired state → what a reviewer reads: who replicates what to where, which grants exist,
the creation templates and the warnings; as plain words, tables, Markdown, Mermaid or Graphviz.

Pure: `explain(state)` builds an `Explanation` from a `DesiredState` (and its warnings); the
`to_*` functions turn it into text. Output is deterministic: registries in (account, Region)
order, rules in spec order, destinations in rule order.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from tfgen import escape
from tfgen.grants import denials
from tfgen.state import GRANT_ACTIONS, CreationTemplate, DesiredState
from tfgen.words import plural

FORMATS = ("text", "markdown", "mermaid", "dot")
_MAX_LABEL_FILTERS = 3
_CREATORS = {
    "REPLICATION": "replication",
    "PULL_THROUGH_CACHE": "pull-through cache",
    "CREATE_ON_PUSH": "create-on-push",
}  # edge labels in pictures show this many filters, then "+N more"


@dataclass(frozen=True, slots=True)
class Registry:
    """A registry as the explanation names it: account, id and Region."""

    account: str
    account_id: str
    region: str

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True, slots=True)
class Edge:
    """One replication rule of a source registry, with every destination it names."""

    source: Registry
    destinations: tuple[Registry, ...]
    filters: tuple[str, ...]
    entry: int  # index of the spec's replication entry
    name: str | None

    @property
    def where(self) -> str:
        return f"replication[{self.entry}]" + (f" {self.name}" if self.name else "")

    def cross_account(self, dest: Registry) -> bool:
        return dest.account_id != self.source.account_id


@dataclass(frozen=True, slots=True)
class Blocked:
    """A Deny statement of the registry's own policy that takes replication away from a source."""

    account: str
    account_id: str
    statement: str  # "'Sid'" or "statements[k]"
    actions: tuple[str, ...]
    conditional: bool

    @property
    def blocks_replication(self) -> bool:
        return "ecr:ReplicateImage" in self.actions and not self.conditional

    def words(self) -> str:
        who = f"{self.account} ({self.account_id})"
        if self.conditional:
            return (
                f"Deny {self.statement} may block {', '.join(self.actions)} for {who}, "
                "depending on its Condition or principal"
            )
        if self.blocks_replication:
            return f"Deny {self.statement} blocks replication from {who}"
        return f"Deny {self.statement} stops {who} creating repositories (they must exist already)"


@dataclass(frozen=True, slots=True)
class Grant:
    """The registry policy of a destination registry: the sources it lets replicate into it, and
    the statements of the user's own it carries."""

    registry: Registry
    sources: tuple[tuple[str, str], ...]  # (account name, account id), sorted by id
    extra_sids: tuple[str, ...]
    blocked: tuple[Blocked, ...] = ()  # the grant's sources that a Deny of the policy overrides
    prefixes: tuple[tuple[str, ...], ...] = ()  # per source: the prefixes granted ("": all)
    actions: tuple[str, ...] = GRANT_ACTIONS
    wide: str | None = None  # why every source is granted every repository, if so

    @property
    def replicating(self) -> tuple[tuple[str, str], ...]:
        """The sources that can replicate: granted and not blocked by a Deny."""
        out = {b.account_id for b in self.blocked if b.blocks_replication}
        return tuple(s for s in self.sources if s[1] not in out)

    def granted(self, account_id: str) -> tuple[str, ...]:
        """The repository prefixes a source is granted ("": every repository)."""
        for (_, i), prefixes in zip(self.sources, self.prefixes, strict=False):
            if i == account_id:
                return prefixes
        return ("",)


@dataclass(frozen=True, slots=True)
class Template:
    """A creation template and the registry that holds it."""

    registry: Registry
    template: CreationTemplate


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything `tfgen explain` says about a spec, before it is formatted."""

    accounts: tuple[tuple[str, str], ...]  # (name, id) sorted by name
    registries: tuple[Registry, ...]  # every registry that appears: managed or a destination
    edges: tuple[Edge, ...]
    grants: tuple[Grant, ...]
    templates: tuple[Template, ...]
    warnings: tuple[str, ...]
    source: str | None = None  # the spec file, for headings

    @property
    def sources(self) -> tuple[Registry, ...]:
        return tuple(dict.fromkeys(e.source for e in self.edges))

    def edges_from(self, source: Registry) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.source == source)


def explain(state: DesiredState, source: str | None = None) -> Explanation:
    """Gather what the state does, by registry, in a stable order."""
    names_by_id = {a.account_id: a.name for a in state.accounts.values()}

    def registry(account_id: str, region: str) -> Registry:
        return Registry(names_by_id.get(account_id, account_id), account_id, region)

    blocked: dict[tuple[str, str], list[Blocked]] = {}
    for found in denials(state):
        blocked.setdefault(found.registry.key, []).append(
            Blocked(
                names_by_id.get(found.source_id, found.source_id),
                found.source_id,
                found.sid,
                found.actions,
                found.conditional,
            )
        )
    edges: list[Edge] = []
    grants: list[Grant] = []
    templates: list[Template] = []
    seen: dict[tuple[str, str], Registry] = {}
    for reg in state.registries:
        here = registry(reg.account_id, reg.region)
        seen.setdefault((here.account, here.region), here)
        for rule in reg.rules:
            dests = tuple(registry(d.registry_id, d.region) for d in rule.destinations)
            for d in dests:
                seen.setdefault((d.account, d.region), d)
            edges.append(Edge(here, dests, tuple(rule.filters), rule.entry, rule.name))
        if reg.grant_sources or reg.extra_statements:
            wide = None
            if reg.grant_scope == "wide":
                wide = (
                    "the grants scoped to prefixes would not fit the policy"
                    if reg.wide_fallback
                    else "grants.scope: wide"
                )
            grants.append(
                Grant(
                    here,
                    tuple((names_by_id.get(i, i), i) for i in reg.grant_sources),
                    tuple(str(s.get("Sid", "(no Sid)")) for s in reg.extra_statements),
                    tuple(blocked.get(reg.key, ())),
                    tuple(reg.granted_prefixes(g) for g in reg.grants),
                    reg.grant_actions,
                    wide,
                )
            )
        templates.extend(Template(here, t) for t in reg.creation_templates)
    return Explanation(
        accounts=tuple(sorted((a.name, a.account_id) for a in state.accounts.values())),
        registries=tuple(seen[k] for k in sorted(seen)),
        edges=tuple(edges),
        grants=tuple(grants),
        templates=tuple(templates),
        warnings=tuple(_warning_text(w) for w in state.warnings),
        source=source,
    )


def _warning_text(warning: Any) -> str:
    fmt = getattr(warning, "format", None)
    return str(fmt()) if callable(fmt) else str(warning)


# --- words ----------------------------------------------------------------------------------------


def _or_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _and_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def filters_phrase(filters: Sequence[str]) -> str:
    if not filters:
        return "every repository"
    return "repositories starting with " + _or_list(list(filters))


def _destination_words(edge: Edge) -> str:
    return ", ".join(
        d.label if edge.cross_account(d) else f"{d.label} (same account)" for d in edge.destinations
    )


def _rule_words(edge: Edge) -> str:
    return f"{filters_phrase(edge.filters)} to {_destination_words(edge)}"


def edge_sentence(edge: Edge) -> str:
    """'replicates repositories starting with team-a/ or base to build/us-west-2 (same account),
    prod/us-east-1'"""
    return f"replicates {_rule_words(edge)}"


def source_sentences(expl: Explanation) -> list[str]:
    """One paragraph per source registry, in plain words."""
    out = []
    for src in expl.sources:
        edges = expl.edges_from(src)
        if len(edges) == 1:
            out.append(f"{src.label} {edge_sentence(edges[0])} — {edges[0].where}.")
        else:
            lines = [f"{src.label} replicates, by {len(edges)} rules:"]
            lines += [f"  - {_rule_words(e)} — {e.where};" for e in edges]
            lines[-1] = lines[-1][:-1] + "."
            out.append("\n".join(lines))
    return out


def repositories_phrase(prefixes: Sequence[str]) -> str:
    """What a grant of these prefixes lets a source replicate, in words."""
    return "every repository" if "" in prefixes else filters_phrase(prefixes)


def repository_patterns(prefixes: Sequence[str]) -> list[str]:
    """The repository-name patterns of a grant, as its resources end: `team-a/*`, `*`."""
    return [f"{p}*" for p in prefixes]


def _grant_words(grant: Grant) -> str:
    """'lets build (111…) replicate repositories starting with team-a/ into it, and prod (222…)
    every repository', with what the grant leaves out."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, i in grant.replicating:
        groups.setdefault(grant.granted(i), []).append(f"{name} ({i})")
    (prefixes, who), *rest = groups.items()
    words = f"lets {_and_list(who)} replicate {repositories_phrase(prefixes)} into it"
    words += "".join(f", and {_and_list(w)} {repositories_phrase(p)}" for p, w in rest)
    notes = []
    if grant.actions != GRANT_ACTIONS:
        notes.append(f"{', '.join(grant.actions)} only: the repositories must exist already")
    if grant.wide:
        notes.append(f"every repository because {grant.wide}")
    return words + (f" ({'; '.join(notes)})" if notes else "")


def grant_sentence(grant: Grant) -> str:
    reg = grant.registry
    parts = []
    if grant.replicating:
        parts.append(f"{reg.label} {_grant_words(grant)}")
    elif grant.sources:
        parts.append(f"{reg.label} lets no source account replicate into it")
    else:
        parts.append(f"{reg.label} grants no source account")
    parts.extend(b.words() for b in grant.blocked)
    if grant.extra_sids:
        noun = "statement" if len(grant.extra_sids) == 1 else "statements"
        parts.append(
            f"its policy also has {len(grant.extra_sids)} {noun} of its own: "
            + ", ".join(grant.extra_sids)
        )
    return "; ".join(parts) + "."


def _prefix_words(prefix: str) -> str:
    if prefix == "ROOT":
        return "ROOT (any repository without a more specific template)"
    return f"prefix {prefix}"


def template_settings(t: CreationTemplate) -> list[str]:
    settings = [f"{t.image_tag_mutability} image tags"]
    if t.exclusion_filters:
        settings.append("except tags matching " + _or_list([f for f, _ in t.exclusion_filters]))
    encryption = t.encryption_type + (f" with {t.kms_key}" if t.kms_key else "")
    settings.append(f"encryption {encryption}")
    if t.lifecycle_policy is not None:
        rules = t.lifecycle_policy.get("rules")
        n = len(rules) if isinstance(rules, list) else 0
        settings.append(f"lifecycle policy ({n} rule{'s' if n != 1 else ''})")
    if t.repository_policy is not None:
        settings.append("repository policy")
    if t.resource_tags:
        settings.append("resource tags " + ", ".join(f"{k}={v}" for k, v in t.resource_tags))
    if t.custom_role_arn:
        settings.append(f"role {t.custom_role_arn}")
    return settings


def template_sentence(t: Template) -> str:
    applied = _or_list([_CREATORS.get(a, a) for a in t.template.applied_for])
    return (
        f"{t.registry.label}: repositories created by {applied} under "
        f"{_prefix_words(t.template.prefix)} get " + "; ".join(template_settings(t.template)) + "."
    )


def summary_line(expl: Explanation) -> str:
    cross = sum(1 for e in expl.edges for d in e.destinations if e.cross_account(d))
    dests = sum(len(e.destinations) for e in expl.edges)
    return (
        f"{plural(len(expl.accounts), 'account')}, "
        f"{plural(len(expl.registries), 'registry')} involved; "
        f"{plural(len(expl.sources), 'source registry', 'source registries')} with "
        f"{plural(len(expl.edges), 'rule')} and {plural(dests, 'destination')} "
        f"({cross} cross-account); "
        f"{plural(len(expl.grants), 'registry policy', 'registry policies')}, "
        f"{plural(len(expl.templates), 'creation template')}, "
        f"{plural(len(expl.warnings), 'warning')}."
    )


# --- tables (rich) --------------------------------------------------------------------------------


def _cross_words(edge: Edge) -> str:
    other = [d.account for d in edge.destinations if edge.cross_account(d)]
    if not other:
        return "no (same account)"
    accounts = ", ".join(dict.fromkeys(other))
    if len(other) == len(edge.destinations):
        return f"yes: {accounts}"
    return f"partly: {accounts}"


def _filter_cell(filters: Sequence[str]) -> str:
    return ", ".join(filters) if filters else "(all repositories)"


def replication_rows(expl: Explanation) -> list[tuple[str, str, str, str, str]]:
    """(source, rule, filters, destinations, cross-account?) per rule."""
    return [
        (
            e.source.label,
            e.where,
            _filter_cell(e.filters),
            "\n".join(d.label for d in e.destinations),
            _cross_words(e),
        )
        for e in expl.edges
    ]


def grant_rows(expl: Explanation) -> list[tuple[str, str, str, str]]:
    return [
        (
            g.registry.label,
            g.registry.account_id,
            "\n".join(_source_cell(g, n, i) for n, i in g.sources) or "-",
            ", ".join(g.extra_sids) or "-",
        )
        for g in expl.grants
    ]


def _source_cell(grant: Grant, name: str, account_id: str) -> str:
    notes = [b.statement for b in grant.blocked if b.account_id == account_id]
    what = ", ".join(repository_patterns(grant.granted(account_id)))
    return f"{name} ({account_id}): {what}" + (f" [Deny {', '.join(notes)}]" if notes else "")


def template_rows(expl: Explanation) -> list[tuple[str, str, str, str]]:
    return [
        (
            t.registry.label,
            t.template.prefix,
            ", ".join(t.template.applied_for),
            "; ".join(template_settings(t.template)),
        )
        for t in expl.templates
    ]


def _table(title: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


REPLICATION_HEADERS = ("Source", "Rule", "Filters", "Destinations", "Cross-account?")
GRANT_HEADERS = ("Destination registry", "Account id", "May replicate into it", "Own statements")
TEMPLATE_HEADERS = ("Registry", "Prefix", "Applied for", "Settings")


def renderables(expl: Explanation) -> list[RenderableType]:
    """Words and tables for a terminal, section by section."""
    title = "ECR replication" + (f" in {expl.source}" if expl.source else "")
    out: list[RenderableType] = [Text(title, style="bold"), Text(summary_line(expl)), Text("")]
    out.append(Text("Replication", style="bold"))
    sentences = source_sentences(expl)
    out.extend(Text(s) for s in sentences or ["No registry replicates anywhere."])
    if expl.edges:
        out.append(_table("", REPLICATION_HEADERS, replication_rows(expl)))
    out += [Text(""), Text("Grants (registry policies)", style="bold")]
    out.extend(Text(grant_sentence(g)) for g in expl.grants)
    if not expl.grants:
        out.append(Text("No registry policy: every destination is in its source's account."))
    else:
        out.append(_table("", GRANT_HEADERS, grant_rows(expl)))
    out += [Text(""), Text("Creation templates", style="bold")]
    out.extend(Text(template_sentence(t)) for t in expl.templates)
    if not expl.templates:
        out.append(
            Text(
                "None: repositories that replication creates get ECR's defaults (MUTABLE, AES256)."
            )
        )
    out += [Text(""), Text("Warnings", style="bold")]
    out.extend(Text(w, style="yellow") for w in expl.warnings)
    if not expl.warnings:
        out.append(Text("None."))
    return out


def to_text(expl: Explanation, width: int = 120) -> str:
    """The terminal view as plain text (no colour), at a fixed width."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        no_color=True,
        color_system=None,
        highlight=False,
        soft_wrap=False,
        markup=False,  # '[x]' in a name, tag or path is text, not a style
        emoji=False,
    )
    console.print(Group(*renderables(expl)))
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    return escape.printable(text)


# --- Markdown (a pull-request comment or job summary) ---------------------------------------------


def _md_cell(value: str) -> str:
    return escape.markdown(value)


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def to_markdown(expl: Explanation) -> str:
    """Markdown for a pull-request comment or job summary; every user string is escaped
    (tfgen.escape.markdown), so none can hide what follows it or break a table."""
    md = escape.markdown
    title = "ECR replication" + (f" in {escape.markdown_code(expl.source)}" if expl.source else "")
    lines = [f"### {title}", "", md(summary_line(expl)), "", "#### Replication", ""]
    sentences = source_sentences(expl)
    for s in sentences:
        first, *rest = s.split("\n")
        lines.append(f"- {md(first)}")
        lines += [f"  {md(r.strip())}" for r in rest]
    if not sentences:
        lines.append("No registry replicates anywhere.")
    if expl.edges:
        lines += ["", *_md_table(REPLICATION_HEADERS, replication_rows(expl))]
    lines += ["", "#### Grants (registry policies)", ""]
    lines += [f"- {md(grant_sentence(g))}" for g in expl.grants] or [
        "No registry policy: every destination is in its source's account."
    ]
    lines += ["", "#### Creation templates", ""]
    lines += [f"- {md(template_sentence(t))}" for t in expl.templates] or ["None."]
    lines += ["", "#### Warnings", ""]
    lines += [f"- ⚠️ {md(w)}" for w in expl.warnings] or ["None."]
    if expl.edges:
        lines += ["", "<details><summary>Topology</summary>", "", "```mermaid"]
        lines += to_mermaid(expl).rstrip("\n").split("\n")
        lines += ["```", "", "</details>"]
    return "\n".join(lines) + "\n"


# --- pictures -------------------------------------------------------------------------------------


def _edge_label(filters: Sequence[str]) -> str:
    if not filters:
        return "all"
    shown = list(filters[:_MAX_LABEL_FILTERS])
    if len(filters) > _MAX_LABEL_FILTERS:
        shown.append(f"+{len(filters) - _MAX_LABEL_FILTERS} more")
    return ", ".join(shown)


def _node_ids(expl: Explanation) -> tuple[dict[str, str], dict[Registry, str]]:
    """Stable ids: a0, a1… per account (by name), r0, r1… per registry (by account, Region)."""
    accounts = sorted({r.account for r in expl.registries})
    return (
        {a: f"a{i}" for i, a in enumerate(accounts)},
        {r: f"r{i}" for i, r in enumerate(expl.registries)},
    )


def _account_title(expl: Explanation, account: str) -> str:
    ids = dict(expl.accounts)
    return f"{account} ({ids[account]})" if account in ids else account


def _mermaid_text(value: str) -> str:
    return escape.mermaid(value)


def to_mermaid(expl: Explanation) -> str:
    """A `flowchart LR`: a subgraph per account, a node per registry (its Region), an edge per
    rule and destination labelled with the filters; dotted edges stay inside one account."""
    account_ids, node_ids = _node_ids(expl)
    lines = ["flowchart LR"]
    for account, aid in account_ids.items():
        lines.append(f'  subgraph {aid}["{_mermaid_text(_account_title(expl, account))}"]')
        lines += [
            f'    {node_ids[r]}["{_mermaid_text(r.region)}"]'
            for r in expl.registries
            if r.account == account
        ]
        lines.append("  end")
    for e in expl.edges:
        label = _mermaid_text(_edge_label(e.filters))
        for d in e.destinations:
            arrow = "-->" if e.cross_account(d) else "-.->"
            lines.append(f'  {node_ids[e.source]} {arrow}|"{label}"| {node_ids[d]}')
    return "\n".join(lines) + "\n"


def _dot_string(value: str) -> str:
    return escape.dot(value)


# Graphviz places an edge's label wherever it fits, which drew filters beside the wrong edge and
# on top of each other: each rule is a node of its own instead, between its source and its
# destinations, so its filters sit on exactly the edges they belong to.
_DOT_HEAD = (
    "digraph tfgen {",
    "  rankdir=LR; nodesep=0.35; ranksep=0.5; newrank=true;",
    '  graph [fontname="Helvetica", fontsize=11];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
)
_RULE_NODE = 'shape=box, style="rounded", color="#8899aa", fontsize=9, margin="0.08,0.03"'
_RULE_EDGE = 'arrowhead=none, color="#8899aa"'


def to_dot(expl: Explanation) -> str:
    """Graphviz: a cluster per account, a node per registry, and per replication rule a small
    node with its filters, joined to its source and to each destination: solid edges cross
    accounts, dashed ones stay in one. A legend says so. `dot -Tsvg` draws it."""
    account_ids, node_ids = _node_ids(expl)
    lines = list(_DOT_HEAD)
    for account, aid in account_ids.items():
        lines.append(f"  subgraph cluster_{aid} {{")
        lines.append(f"    label={_dot_string(_account_title(expl, account))};")
        lines.append('    style="rounded"; color="#8899aa";')
        lines += [
            f"    {node_ids[r]} [label={_dot_string(r.region)}];"
            for r in expl.registries
            if r.account == account
        ]
        lines.append("  }")
    for i, e in enumerate(expl.edges):
        rule = f"rule{i}"
        label = _dot_string(_edge_label(e.filters) if e.filters else "all repositories")
        lines.append(f"  {rule} [label={label}, {_RULE_NODE}];")
        lines.append(f"  {node_ids[e.source]} -> {rule} [{_RULE_EDGE}];")
        for d in e.destinations:
            style = "solid" if e.cross_account(d) else "dashed"
            lines.append(f"  {rule} -> {node_ids[d]} [style={style}];")
    if expl.edges:
        lines += _dot_legend()
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_legend() -> list[str]:
    """A rule in miniature, drawn with the same styles: what the nodes and edges mean."""
    plain = 'shape=plaintext, style="", fontsize=9'
    return [
        "  subgraph cluster_legend {",
        '    label="legend"; style="rounded"; color="#cccccc"; fontsize=9;',
        f'    legend_source [label="source registry", {plain}];',
        f'    legend_rule [label="a rule\'s filters", {_RULE_NODE}];',
        f'    legend_cross [label="another account\'s registry\\l(solid: needs a grant)\\l", {plain}];',
        f'    legend_same [label="a registry of the same account\\l(dashed)\\l", {plain}];',
        f"    legend_source -> legend_rule [{_RULE_EDGE}];",
        "    legend_rule -> legend_cross [style=solid];",
        "    legend_rule -> legend_same [style=dashed];",
        "  }",
    ]


# --- JSON -----------------------------------------------------------------------------------------


def _registry_json(r: Registry) -> dict[str, str]:
    return {"account": r.account, "account_id": r.account_id, "region": r.region}


def to_json(expl: Explanation, warnings: Sequence[Any] = ()) -> dict[str, Any]:
    """Everything above as data. `warnings` may be the spec's Issue objects, for their file, line
    and path; without them, the formatted warning lines."""
    issue_json = [
        w.to_json() if callable(getattr(w, "to_json", None)) else {"message": str(w)}
        for w in warnings
    ]
    return {
        "source": expl.source,
        "accounts": [{"name": n, "id": i} for n, i in expl.accounts],
        "registries": [_registry_json(r) for r in expl.registries],
        "replication": [
            {
                "entry": e.entry,
                "name": e.name,
                "source": _registry_json(e.source),
                "filters": list(e.filters),
                "destinations": [
                    {**_registry_json(d), "cross_account": e.cross_account(d)}
                    for d in e.destinations
                ],
                "text": f"{e.source.label} {edge_sentence(e)}",
            }
            for e in expl.edges
        ],
        "grants": [
            {
                "registry": _registry_json(g.registry),
                "sources": [
                    {
                        "account": n,
                        "account_id": i,
                        "repositories": repository_patterns(g.granted(i)),
                    }
                    for n, i in g.sources
                ],
                "actions": list(g.actions),
                "scope": "wide" if g.wide else "scoped",
                "extra_statement_sids": list(g.extra_sids),
                "denied": [
                    {
                        "account": b.account,
                        "account_id": b.account_id,
                        "statement": b.statement,
                        "actions": list(b.actions),
                        "conditional": b.conditional,
                    }
                    for b in g.blocked
                ],
                "text": grant_sentence(g),
            }
            for g in expl.grants
        ],
        "creation_templates": [
            {
                "registry": _registry_json(t.registry),
                "prefix": t.template.prefix,
                "applied_for": list(t.template.applied_for),
                "settings": template_settings(t.template),
                "text": template_sentence(t),
            }
            for t in expl.templates
        ],
        "warnings": issue_json if warnings else [{"message": w} for w in expl.warnings],
    }


def render(expl: Explanation, fmt: str, width: int = 120) -> str:
    """text, markdown, mermaid or dot."""
    renderers: Mapping[str, Any] = {
        "text": lambda: to_text(expl, width),
        "markdown": lambda: to_markdown(expl),
        "mermaid": lambda: to_mermaid(expl),
        "dot": lambda: to_dot(expl),
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return str(renderers[fmt]())
