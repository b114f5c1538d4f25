"""Which sources a registry policy lets replicate, and which repositories, evaluated as IAM does.

tfgen grants each source account replication into a destination registry; a user statement in the
same policy can take that away again (IAM: an explicit Deny wins). `denials` finds every such
(registry, source account, statement), so compile can refuse it and explain can say it.

Live policies are read the same way (`Registry`, `grant_form`, `allowed`): which statements do
nothing but grant replication (so tfgen's own grant can stand for them), and which repository
prefixes an unconditional Allow gives an account for ecr:ReplicateImage or ecr:CreateRepository.
Principals match as IAM matches them (an account id or its root ARN, or `*`), actions and
resources with IAM's wildcards, resource ARNs segment by segment. A repository is named by a
prefix of its name ("" for every repository): replication keeps the source repository's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tfgen.spec.issues import Issue, Severity
from tfgen.spec.model import Spec
from tfgen.spec.policy import (
    ACCEPT_KEY,
    REPLICATION_ACTIONS,
    accepted,
    as_list,
    denial,
    matches_some,
    wildcard_match,
)
from tfgen.state import DesiredState, RegistryState, minimal_prefixes

_REPOSITORY = "repository/"
_GRANT_KEYS = frozenset({"Sid", "Effect", "Principal", "Action", "Resource"})
_CANONICAL_ACTIONS = {a.lower(): a for a in REPLICATION_ACTIONS}


@dataclass(frozen=True, slots=True)
class Denied:
    registry: RegistryState
    source_id: str  # the source account whose replication is denied
    statement: int  # index into registry.extra_statements (= the spec's statements list)
    actions: tuple[str, ...]  # ecr:ReplicateImage and/or ecr:CreateRepository
    conditional: bool  # a Condition (or a principal inside the account) decides

    @property
    def sid(self) -> str:
        sid = self.registry.extra_statements[self.statement].get("Sid")
        return f"'{sid}'" if isinstance(sid, str) and sid else f"statements[{self.statement}]"

    @property
    def blocks_replication(self) -> bool:
        return "ecr:ReplicateImage" in self.actions


def denials(state: DesiredState) -> tuple[Denied, ...]:
    """Every user Deny that takes away an action tfgen's grant gives a source, for repositories
    the source replicates into the registry."""
    out: list[Denied] = []
    for registry in state.registries:
        for grant in registry.grants:
            for k, statement in enumerate(registry.extra_statements):
                found = denial(
                    statement,
                    grant.account_id,
                    registry.partition,
                    registry.repository_arn,
                    grant.prefixes,
                )
                if found is None:
                    continue
                actions = tuple(a for a in found.actions if a in registry.grant_actions)
                if actions:
                    out.append(Denied(registry, grant.account_id, k, actions, found.conditional))
    return tuple(out)


# --- live policies --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registry:
    """The registry a policy belongs to: what its resources and principals are matched against."""

    partition: str
    region: str
    account_id: str

    def root(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:root"


@dataclass(frozen=True, slots=True)
class GrantForm:
    """A statement that does nothing but grant replication into its registry: the accounts,
    the replication actions, and the repository prefixes ("": every repository)."""

    accounts: frozenset[str]
    actions: frozenset[str]  # spelled as REPLICATION_ACTIONS spells them
    prefixes: tuple[str, ...]  # minimal, sorted


Access = dict[str, tuple[str, ...]]  # replication action → prefixes allowed (minimal, sorted)


def _account(member: Any, registry: Registry) -> str | None:
    """The account id of an account principal (its id or its root ARN), else None."""
    if not isinstance(member, str):
        return None
    if len(member) == 12 and member.isdigit():
        return member
    head, _, tail = member.rpartition(":")
    if tail == "root" and head.startswith(f"arn:{registry.partition}:iam::"):
        account = head.removeprefix(f"arn:{registry.partition}:iam::")
        return account if len(account) == 12 and account.isdigit() else None
    return None


def _resource_prefix(pattern: Any, registry: Registry) -> tuple[str | None, bool]:
    """(prefix, applies): the repositories of this registry `pattern` matches, as one name
    prefix; or None, with applies False when it matches none of them and True when it matches
    some in another way (an exact name, a wildcard inside the name)."""
    if not isinstance(pattern, str):
        return None, False
    if pattern == "*":
        return "", True
    parts = pattern.split(":", 5)
    want = ("arn", registry.partition, "ecr", registry.region, registry.account_id)
    if len(parts) != 6 or not all(
        wildcard_match(p, w) for p, w in zip(parts[:5], want, strict=True)
    ):
        return None, False
    last = parts[5]
    head = last[:-1]
    if last.endswith("*") and "*" not in head and "?" not in head:
        if _REPOSITORY.startswith(head):
            return "", True
        if head.startswith(_REPOSITORY):
            return head.removeprefix(_REPOSITORY), True
        return None, False  # another resource type
    return None, matches_some(last, _REPOSITORY)


def grant_form(statement: Mapping[str, Any], registry: Registry) -> GrantForm | None:
    """The statement as a replication grant, if it is nothing else: an unconditional Allow of
    ecr:ReplicateImage and/or ecr:CreateRepository (named exactly) to account principals, on
    repositories of this registry given as prefixes (`repository/team-a/*`, `repository/*`,
    `arn:aws:ecr:*:ACCOUNT:repository/*`, `*`)."""
    if set(statement) - _GRANT_KEYS or statement.get("Effect") != "Allow":
        return None
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
        return None
    accounts = [_account(m, registry) for m in as_list(principal["AWS"])]
    actions = [_CANONICAL_ACTIONS.get(str(a).lower()) for a in as_list(statement.get("Action"))]
    if not accounts or None in accounts or not actions or None in actions:
        return None
    prefixes: list[str] = []
    for resource in as_list(statement.get("Resource")):
        prefix, applies = _resource_prefix(resource, registry)
        if prefix is None and applies:
            return None  # an exact name or an inner wildcard: not tfgen's form
        if prefix is not None:
            prefixes.append(prefix)
    if not prefixes:
        return None
    return GrantForm(
        frozenset(a for a in accounts if a is not None),
        frozenset(a for a in actions if a is not None),
        minimal_prefixes(prefixes),
    )


def allowed(statement: Mapping[str, Any], account_id: str, registry: Registry) -> Access:
    """What an unconditional Allow surely gives `account_id` (its root, so replication) in this
    registry: per replication action, the repository prefixes. Repositories named otherwise
    (exact names, inner wildcards, NotResource) and conditional statements count for nothing."""
    if statement.get("Effect") != "Allow" or set(statement) & {
        "Condition",
        "NotPrincipal",
        "NotResource",
    }:
        return {}
    principal = statement.get("Principal")
    members = (
        ["*"]
        if principal == "*"
        else as_list(principal.get("AWS"))
        if isinstance(principal, Mapping)
        else []
    )
    if "*" not in members and account_id not in {_account(m, registry) for m in members}:
        return {}
    prefixes = [
        prefix
        for resource in as_list(statement.get("Resource"))
        for prefix in [_resource_prefix(resource, registry)[0]]
        if prefix is not None
    ]
    if not prefixes:
        return {}
    return {
        action: minimal_prefixes(prefixes)
        for action in REPLICATION_ACTIONS
        if _action_allowed(statement, action)
    }


def _action_allowed(statement: Mapping[str, Any], action: str) -> bool:
    def matches(key: str) -> bool:
        return any(
            wildcard_match(str(p).lower(), action.lower()) for p in as_list(statement.get(key))
        )

    return not matches("NotAction") if "NotAction" in statement else matches("Action")


def union(*accesses: Access) -> Access:
    """The access of several statements together, per action."""
    out: dict[str, list[str]] = {}
    for access in accesses:
        for action, prefixes in access.items():
            out.setdefault(action, []).extend(prefixes)
    return {action: minimal_prefixes(p) for action, p in out.items() if p}


def form_access(form: GrantForm) -> Access:
    return {action: form.prefixes for action in form.actions}


def covered(prefix: str, by: Iterable[str]) -> bool:
    """Whether every repository starting with `prefix` starts with one of `by`."""
    return any(prefix.startswith(p) for p in by)


def check_denials(spec: Spec, state: DesiredState, issues: list[Issue]) -> None:
    """A Deny that blocks replication the spec asks for is an error, unless its statement says
    `tfgen_accept: [denies_replication]`; a conditional one is a warning."""
    names = {a.account_id: a.name for a in state.accounts.values()}
    used: set[tuple[str, int]] = set()
    for d in denials(state):
        account = d.registry.account
        statements = spec.registry_policies[account].statements
        path = ("registry_policies", account, "statements", d.statement)
        source = f"{names.get(d.source_id, d.source_id)} ({d.source_id})"
        effect = (
            "so its replication into it fails"
            if d.blocks_replication
            else "so replication cannot create missing repositories there"
        )
        if "denies_replication" in accepted(statements[d.statement]):
            used.add((account, d.statement))
        elif d.conditional:
            issues.append(
                Issue(
                    path,
                    f"this Deny may block {', '.join(d.actions)} for {source}, which the spec "
                    f"replicates into {d.registry.label}, when its Condition holds or for some of "
                    "that account's principals; tfgen cannot tell. Add "
                    f"'{ACCEPT_KEY}: [denies_replication]' to the statement if that is intended",
                    Severity.WARNING,
                )
            )
        else:
            issues.append(
                Issue(
                    path,
                    f"this Deny blocks {', '.join(d.actions)} for {source}, which the spec "
                    f"replicates into {d.registry.label}, {effect}; narrow the Deny, stop "
                    f"replicating there, or add '{ACCEPT_KEY}: [denies_replication]' to the "
                    "statement if that is intended",
                )
            )
    for account, policy in spec.registry_policies.items():
        for k, statement in enumerate(policy.statements):
            if "denies_replication" in accepted(statement) and (account, k) not in used:
                issues.append(
                    Issue(
                        ("registry_policies", account, "statements", k, ACCEPT_KEY),
                        "'denies_replication' accepts nothing here (the statement blocks no "
                        "replication this spec sets up); remove it so it cannot hide a later change",
                        Severity.WARNING,
                    )
                )


__all__ = [
    "Access",
    "Denied",
    "GrantForm",
    "Registry",
    "allowed",
    "check_denials",
    "covered",
    "denials",
    "form_access",
    "grant_form",
    "union",
]
