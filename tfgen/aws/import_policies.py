"""Registry policies → spec `registry_policies` and each account's `grants` setting.

tfgen writes the replication grants itself, from the replication entries, so import takes the live
grants out where tfgen's grant gives exactly the same permissions, and says how (`grants: {scope,
create_repositories}`). Permissions are what IAM allows each source account: an unconditional
Allow to the account (its id or root ARN) of ecr:ReplicateImage / ecr:CreateRepository, on the
repositories given as name prefixes (tfgen.grants). A live grant is replaced only when compiling
the spec gives every source exactly the live permissions, plus what it replicates but is not
granted today (a true gap, noted); otherwise the grant statements are kept as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tfgen.aws import canonical
from tfgen.aws.live import LiveRegistry
from tfgen.errors import TfgenError
from tfgen.grants import Access, GrantForm, Registry, allowed, covered, grant_form, union
from tfgen.spec import policy
from tfgen.state import (
    GRANT_ACTIONS,
    POLICY_VERSION,
    GrantScope,
    RegistryState,
    SourceGrant,
    compact_json,
    is_grant_sid,
    minimal_prefixes,
)

RENAMED_SID = "TfgenReplicationImported"
REPLICATE, CREATE = "ecr:ReplicateImage", "ecr:CreateRepository"
# Grant settings in order of preference: the spec's defaults first.
SETTINGS: tuple[tuple[GrantScope, bool], ...] = (
    ("scoped", True),
    ("wide", True),
    ("scoped", False),
    ("wide", False),
)

# (registry id, Region) → source account id → the repository prefixes it replicates there
Sources = Mapping[tuple[str, str], Mapping[str, tuple[str, ...]]]


@dataclass(slots=True)
class PolicyImport:
    """Registry-policy statements for the spec (grants taken out), the accounts' `grants`
    settings (only where they differ from the defaults), and notes on what changes."""

    registry_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Policy:
    """One live registry policy, split into grant statements tfgen may replace and the rest."""

    live: LiveRegistry
    registry: Registry
    needs: Mapping[str, tuple[str, ...]]  # source id → prefixes it replicates here
    forms: tuple[tuple[Mapping[str, Any], GrantForm], ...]
    others: tuple[Mapping[str, Any], ...]

    @property
    def statements(self) -> list[Mapping[str, Any]]:
        assert self.live.registry_policy is not None
        return canonical.statements(self.live.registry_policy)

    def access(self, account_id: str, statements: Sequence[Mapping[str, Any]]) -> Access:
        return union(*(allowed(s, account_id, self.registry) for s in statements))

    def gaps(self, account_id: str) -> tuple[str, ...]:
        """The prefixes the source replicates here that no live statement surely allows."""
        granted = self.access(account_id, self.statements).get(REPLICATE, ())
        return tuple(p for p in self.needs[account_id] if not covered(p, granted))

    def maybe(self, account_id: str) -> bool:
        """Whether some Allow not counted as a grant (a Condition, a role of the account, '*',
        NotPrincipal) may still let the account replicate here."""
        for stmt in self.statements:
            if stmt.get("Effect") != "Allow" or allowed(stmt, account_id, self.registry):
                continue
            principal = stmt.get("Principal", stmt.get("NotPrincipal"))
            members = canonical.as_list(
                principal.get("AWS") if isinstance(principal, Mapping) else principal
            )
            if "NotPrincipal" in stmt or any(
                m == "*" or (isinstance(m, str) and account_id in m) for m in members
            ):
                return True
        return False

    def exact(self, scope: GrantScope, create: bool, replace: bool) -> bool:
        """Whether the compiled policy (tfgen's grant with these settings, plus the kept
        statements) allows every source exactly what the live one does, plus its gaps."""
        kept = list(self.others) if replace else self.statements
        for account_id, needed in self.needs.items():
            live = self.access(account_id, self.statements)
            if not live:
                continue  # granted nothing today: a gap, whatever tfgen's grant looks like
            gaps = self.gaps(account_id)
            granted = needed if scope == "scoped" else ("",)
            base = self.access(account_id, kept)
            compiled = {
                REPLICATE: minimal_prefixes([*granted, *base.get(REPLICATE, ())]),
                CREATE: minimal_prefixes([*(granted if create else ()), *base.get(CREATE, ())]),
            }
            wanted = {
                REPLICATE: minimal_prefixes([*live.get(REPLICATE, ()), *gaps]),
                CREATE: minimal_prefixes([*live.get(CREATE, ()), *(gaps if create else ())]),
            }
            if compiled != wanted:
                return False
        return True


def _split(live: LiveRegistry, needs: Mapping[str, tuple[str, ...]], partition: str) -> _Policy:
    registry = Registry(partition, live.region, live.account_id)
    assert live.registry_policy is not None
    forms = []
    others = []
    for stmt in canonical.statements(live.registry_policy):
        form = grant_form(stmt, registry)
        # A statement of ecr:CreateRepository alone is no replication grant (pull-through cache
        # rules use it too): it stays as written.
        if form is not None and REPLICATE in form.actions and form.accounts <= needs.keys():
            forms.append((stmt, form))
        else:
            others.append(stmt)
    return _Policy(live, registry, needs, tuple(forms), tuple(others))


def _choose(policies: Sequence[_Policy]) -> tuple[GrantScope, bool, frozenset[str]]:
    """The grant settings of one account, and the Regions whose grant statements are kept: the
    settings that replace the most live grants exactly, the spec's defaults on a tie."""
    best: tuple[int, int, frozenset[str]] | None = None
    for rank, (scope, create) in enumerate(SETTINGS):
        kept: set[str] = set()
        for p in policies:
            if p.exact(scope, create, replace=True):
                continue
            if not p.exact(scope, create, replace=False):
                break
            kept.add(p.live.region)
        else:
            if best is None or (len(kept), rank) < best[:2]:
                best = (len(kept), rank, frozenset(kept))
    # Keeping every grant, with a ReplicateImage-only grant of the replicated prefixes, always
    # reproduces the live permissions: some setting always qualifies.
    assert best is not None
    _, rank, kept_regions = best
    scope, create = SETTINGS[rank]
    return scope, create, kept_regions


def _tfgen_statements(p: _Policy, scope: GrantScope, create: bool) -> list[dict[str, Any]]:
    state = RegistryState(
        account=p.live.account,
        account_id=p.live.account_id,
        region=p.live.region,
        partition=p.registry.partition,
        grants=tuple(SourceGrant(i, prefixes) for i, prefixes in sorted(p.needs.items())),
        grant_scope=scope,
        create_repositories=create,
    )
    return state.grant_statements()


def _sid_list(statements: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(str(s.get("Sid") or "(no Sid)") for s in statements)


def _statements(
    p: _Policy, scope: GrantScope, create: bool, replace: bool, notes: list[str]
) -> list[dict[str, Any]]:
    """The live statements the spec keeps, noting every way the compiled policy will differ."""
    label = p.live.label
    assert p.live.registry_policy is not None
    version = p.live.registry_policy.get("Version")
    if version != POLICY_VERSION:
        notes.append(f"{label}: the policy's Version {version!r} becomes {POLICY_VERSION!r}")
    forms = [stmt for stmt, _ in p.forms]
    ours = _tfgen_statements(p, scope, create)
    keys = sorted(canonical.statement_key(s, p.registry.partition) for s in forms)
    plus = ", plus the grants noted as missing" if any(map(p.gaps, p.needs)) else ""
    if (
        replace
        and forms
        and keys != sorted(canonical.statement_key(s, p.registry.partition) for s in ours)
    ):
        notes.append(
            f"{label}: replication grant(s) {_sid_list(forms)} become tfgen's statement(s) "
            f"{_sid_list(ours)} (the same permissions{plus})"
        )
    if not replace:
        notes.append(
            f"{label}: replication grant(s) {_sid_list(forms)} give more or other than tfgen's "
            "grant of the replicated prefixes would, so they are kept as statements (tfgen's "
            "own grant repeats part of them)"
        )
    _note_gaps(p, notes)
    kept = list(p.others) if replace else p.statements
    out = []
    renamed = 0
    for stmt in kept:
        if is_grant_sid(stmt.get("Sid")):
            renamed += 1
            sid = RENAMED_SID + (str(renamed) if renamed > 1 else "")
            notes.append(
                f"{label}: statement {stmt['Sid']} has the Sid form tfgen gives its grants; "
                f"kept as {sid}"
            )
            stmt = {**stmt, "Sid": sid}
        out.append(_with_acceptances(dict(stmt), p, create, notes))
    return out


def _note_gaps(p: _Policy, notes: list[str]) -> None:
    missing: dict[bool, list[str]] = {False: [], True: []}
    partly: dict[bool, list[str]] = {False: [], True: []}
    for account_id in sorted(p.needs):
        gaps = p.gaps(account_id)
        if not gaps:
            continue
        if not p.access(account_id, p.statements).get(REPLICATE):
            missing[p.maybe(account_id)].append(account_id)
        else:
            what = ", ".join(f"{g}*" for g in gaps)
            partly[p.maybe(account_id)].append(f"{account_id} ({what})")
    for maybe in (False, True):
        fails = (
            "only a statement tfgen cannot evaluate (a Condition, a role, '*') may allow it"
            if maybe
            else "their replication fails today"
        )
        if missing[maybe]:
            notes.append(
                f"{p.live.label}: no grant for {', '.join(missing[maybe])}, which replicate here "
                f"({fails}); tfgen's grant adds them"
            )
        if partly[maybe]:
            notes.append(
                f"{p.live.label}: the live grants leave out repositories that replicate here, "
                f"for {'; '.join(partly[maybe])} ({fails}); tfgen's grant adds them"
            )


def _with_acceptances(
    stmt: dict[str, Any], p: _Policy, create: bool, notes: list[str]
) -> dict[str, Any]:
    """A live statement the spec would refuse without an opt-in gets `tfgen_accept`, with a note,
    so the imported spec says out loud what the live policy already does."""
    needed = policy.risky_shapes(stmt)
    arn = f"arn:{p.registry.partition}:ecr:{p.live.region}:{p.live.account_id}:repository/"
    actions = GRANT_ACTIONS if create else (REPLICATE,)
    for source, prefixes in sorted(p.needs.items()):
        found = policy.denial(stmt, source, p.registry.partition, arn, prefixes)
        if found is not None and set(found.actions) & set(actions):
            needed.append("denies_replication")
            break
    if not needed:
        return stmt
    notes.append(
        f"{p.live.label}: statement {stmt.get('Sid') or '(no Sid)'} is "
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
    """Spec `registry_policies` (one entry per account: spec v1 has one statement list each)
    and the `grants` settings that make tfgen's grants equal the live ones."""
    out = PolicyImport()
    by_account: dict[str, list[_Policy]] = {}
    for registry in live:
        needs = sources.get((registry.account_id, registry.region), {})
        if registry.registry_policy is None:
            if needs:
                out.notes.append(
                    f"{registry.label}: no registry policy, yet {', '.join(sorted(needs))} "
                    "replicate here (their replication fails today); tfgen's grant adds them"
                )
            continue
        by_account.setdefault(names[registry.account_id], []).append(
            _split(registry, needs, partition)
        )
    for account, policies in by_account.items():
        scope, create, kept = _choose(policies)
        setting: dict[str, Any] = {}
        if scope != "scoped":
            setting["scope"] = scope
        if not create:
            setting["create_repositories"] = False
        if setting and any(p.needs for p in policies):
            out.grants[account] = setting
        by_region = {}
        for p in policies:
            extras = _statements(p, scope, create, p.live.region not in kept, out.notes)
            if extras:
                by_region[p.live.region] = extras
        if not by_region:
            continue
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


__all__ = ["PolicyImport", "Sources", "import_policies"]
