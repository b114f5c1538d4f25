"""Which replication a registry's own Deny statements block, from the compiled desired state.

tfgen grants each source account replication into a destination registry; a user statement in the
same policy can take that away again (IAM: an explicit Deny wins). `denials` finds every such
(registry, source account, statement), so compile can refuse it and explain can say it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tfgen.spec.issues import Issue, Severity
from tfgen.spec.model import Spec
from tfgen.spec.policy import ACCEPT_KEY, accepted, denial
from tfgen.state import DesiredState, RegistryState


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


def _prefixes(state: DesiredState) -> dict[tuple[str, str, str], set[str]]:
    """(destination account id, Region, source account id) → the repository prefixes replicated."""
    out: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for source in state.registries:
        for rule in source.rules:
            for dest in rule.destinations:
                key = (dest.registry_id, dest.region, source.account_id)
                out[key] |= set(rule.filters) or {""}
    return out


def denials(state: DesiredState) -> tuple[Denied, ...]:
    prefixes = _prefixes(state)
    out: list[Denied] = []
    for registry in state.registries:
        arn = f"arn:{registry.partition}:ecr:{registry.region}:{registry.account_id}:repository/"
        for source_id in registry.grant_sources:
            wanted = sorted(prefixes.get((registry.account_id, registry.region, source_id), {""}))
            for k, statement in enumerate(registry.extra_statements):
                found = denial(statement, source_id, registry.partition, arn, wanted)
                if found is not None:
                    out.append(Denied(registry, source_id, k, found.actions, found.conditional))
    return tuple(out)


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


__all__ = ["Denied", "check_denials", "denials"]
