"""Spec → compiled desired state: exactly one RegistryState per registry (account + Region).

Pure: no I/O. Limits that only show per registry (rules, unique destinations, policy size) are
checked here, where that view exists, and reported against the spec paths that caused them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tfgen import limits
from tfgen.gcpause import cycle_collection_paused
from tfgen.grants import check_denials
from tfgen.spec import LoadedSpec, placeholders, terraform_version
from tfgen.spec.issues import Issue, Severity, SpecError, SpecPath
from tfgen.spec.model import CreationTemplate as SpecTemplate
from tfgen.spec.model import Spec, grant_settings
from tfgen.spec.policy import strip
from tfgen.spec.templates import expand_role, kms_region
from tfgen.state import (
    GRANT_SID,
    AccountState,
    CreationTemplate,
    DesiredState,
    Destination,
    RegistryState,
    Rule,
    S3BackendState,
    Settings,
    SourceGrant,
    minimal_prefixes,
    sent_json,
)

Key = tuple[str, str]  # (account name, region)


@dataclass(slots=True)
class _Registry:
    rules: list[Rule] = field(default_factory=list)
    sources: dict[str, set[str]] = field(default_factory=dict)  # source id → filters ("" = all)
    source_paths: list[SpecPath] = field(default_factory=list)
    statements: list[Mapping[str, Any]] = field(default_factory=list)
    templates: list[CreationTemplate] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.rules or self.sources or self.statements or self.templates)


def compile_model(spec: Spec) -> tuple[DesiredState, list[Issue]]:
    """Compile a checked spec. Returns the state and the issues (errors and warnings) found."""
    issues: list[Issue] = []
    accounts = {
        name: AccountState(
            name=name,
            account_id=a.id,
            partition=a.partition,
            role_arn=_role(a.role_arn or spec.defaults.role_arn, name, a.id),
        )
        for name, a in spec.accounts.items()
    }
    registries: dict[Key, _Registry] = defaultdict(_Registry)
    receives: dict[str, list[str]] = defaultdict(list)  # account → Regions it receives in
    same_account: set[Key] = set()  # registries that receive from their own account
    _compile_rules(spec, accounts, registries, receives, same_account, issues)
    _compile_templates(spec, registries, receives, issues)
    _compile_policies(spec, registries, issues)
    for key in [k for k, reg in registries.items() if reg.is_empty()]:
        del registries[key]  # e.g. registry_policies with no statements: nothing to manage there
        issues.append(
            Issue(
                ("registry_policies", key[0]),
                f"nothing to manage in {key[0]}/{key[1]}: no statements, no rules, no templates",
                Severity.WARNING,
            )
        )

    grants = {name: grant_settings(spec, name) for name in accounts}
    states = tuple(
        _fit_policy(
            RegistryState(
                account=name,
                account_id=accounts[name].account_id,
                region=region,
                partition=accounts[name].partition,
                rules=tuple(reg.rules),
                grants=tuple(
                    SourceGrant(i, minimal_prefixes(f)) for i, f in sorted(reg.sources.items())
                ),
                extra_statements=tuple(reg.statements),
                creation_templates=tuple(reg.templates),
                grant_scope=grants[name][0],
                create_repositories=grants[name][1],
            ),
            reg,
            issues,
        )
        for (name, region), reg in sorted(registries.items())
    )
    for state in states:
        _check_registry(state, registries[state.key], issues)
    _warn_unused_templates(states, same_account, issues)
    _warn_chains(states, accounts, issues)
    backend = spec.defaults.backend
    settings = Settings(
        required_version=spec.defaults.terraform.required_version
        or terraform_version.default_constraint(spec),
        aws_provider_version=spec.defaults.terraform.aws_provider_version,
        backend=None
        if backend is None
        else S3BackendState(
            bucket=backend.s3.bucket,
            region=backend.s3.region,
            key=backend.s3.key,
            use_lockfile=backend.s3.use_lockfile,
            encrypt=backend.s3.encrypt,
            dynamodb_table=backend.s3.dynamodb_table,
            role_arn=backend.s3.role_arn,
        ),
    )
    desired = DesiredState(states, accounts, settings)
    check_denials(spec, desired, issues)
    warnings = tuple(i for i in issues if i.severity is Severity.WARNING)
    return replace(desired, warnings=warnings), issues


def _role(template: str | None, name: str, account_id: str) -> str | None:
    if template is None:
        return None
    return placeholders.fill(template, {"account": name, "account_id": account_id})


def _compile_rules(
    spec: Spec,
    accounts: Mapping[str, AccountState],
    registries: dict[Key, _Registry],
    receives: dict[str, list[str]],
    same_account: set[Key],
    issues: list[Issue],
) -> None:
    for i, entry in enumerate(spec.replication):
        src = entry.from_.account
        assert src is not None  # checked: Organizations targets are expanded before compile
        for region in entry.from_.regions:
            destinations: list[Destination] = []
            seen: set[tuple[str, str]] = set()  # (Region, id): hashed in C, not by the dataclass
            for target in entry.to:
                assert target.account is not None
                dest_id = accounts[target.account].account_id
                for dest_region in target.regions:
                    if target.account == src and dest_region == region:
                        continue  # a registry never replicates to itself; lets mesh specs work
                    if (dest_region, dest_id) in seen:
                        issues.append(
                            Issue(
                                ("replication", i, "to"),
                                f"{target.account}/{dest_region} is listed twice; it is one "
                                "destination",
                                Severity.WARNING,
                            )
                        )
                        continue
                    seen.add((dest_region, dest_id))
                    destinations.append(Destination(dest_region, dest_id))
                    if dest_region not in receives[target.account]:
                        receives[target.account].append(dest_region)
                    if target.account != src:
                        dest_reg = registries[(target.account, dest_region)]
                        wanted = dest_reg.sources.setdefault(accounts[src].account_id, set())
                        wanted.update(entry.filters or [""])  # "": every repository
                        dest_reg.source_paths.append(("replication", i))
                    else:
                        same_account.add((target.account, dest_region))
            if not destinations:
                issues.append(
                    Issue(
                        ("replication", i, "to"),
                        f"the rule for {src}/{region} has no destination: every destination is "
                        "the source registry itself",
                    )
                )
                continue
            registries[(src, region)].rules.append(
                Rule(tuple(destinations), tuple(entry.filters), i, entry.name)
            )


def _compile_policies(spec: Spec, registries: dict[Key, _Registry], issues: list[Issue]) -> None:
    for name, policy in spec.registry_policies.items():
        regions = policy.regions
        if regions is None:
            regions = sorted({region for (acct, region) in registries if acct == name})
            if not regions:
                issues.append(
                    Issue(
                        ("registry_policies", name),
                        f"tfgen manages no registry of '{name}', so it cannot tell which Regions "
                        "this policy is for; add 'regions: [...]'",
                    )
                )
                continue
        for region in regions:
            registries[(name, region)].statements.extend(strip(s) for s in policy.statements)


def _compile_templates(
    spec: Spec,
    registries: dict[Key, _Registry],
    receives: Mapping[str, list[str]],
    issues: list[Issue],
) -> None:
    for i, t in enumerate(spec.creation_templates):
        template = CreationTemplate(
            prefix=t.prefix,
            applied_for=tuple(t.applied_for),
            image_tag_mutability=t.image_tag_mutability,
            encryption_type=t.encryption.type,
            kms_key=None,
            description=t.description,
            lifecycle_policy=t.lifecycle_policy,
            repository_policy=t.repository_policy,
            resource_tags=tuple(sorted(t.resource_tags.items())),
            custom_role_arn=None,
            entry=i,
            exclusion_filters=tuple(
                (f.filter, f.filter_type) for f in t.image_tag_mutability_exclusion_filters
            ),
        )
        for k, name in enumerate(t.accounts):
            regions = t.regions if t.regions is not None else sorted(receives.get(name, ()))
            if not regions:
                issues.append(
                    Issue(
                        ("creation_templates", i, "accounts", k),
                        f"account '{name}' receives no replication, so the template has no Region; "
                        "add 'regions: [...]'",
                    )
                )
            account = spec.accounts[name]
            role = t.custom_role_arn and expand_role(t.custom_role_arn, name, account.id)
            for region in regions:
                reg = registries[(name, region)]
                clash = next((x for x in reg.templates if x.prefix == t.prefix), None)
                if clash is not None:
                    issues.append(
                        Issue(
                            ("creation_templates", i, "prefix"),
                            f"{name}/{region} already has a template for prefix '{t.prefix}' "
                            f"(creation_templates[{clash.entry}]); a prefix has one template per registry",
                        )
                    )
                    continue
                key = _kms_key_for(t.encryption.kms_key, region, i, issues)
                reg.templates.append(replace(template, kms_key=key, custom_role_arn=role))
        _check_unused_keys(t.encryption.kms_key, t, receives, i, issues)
        _check_template_sizes(t.lifecycle_policy, t.repository_policy, i, issues)


def _kms_key_for(
    key: str | Mapping[str, str] | None, region: str, i: int, issues: list[Issue]
) -> str | None:
    """The template's KMS key for one Region: ECR encrypts with a key of the repository's Region,
    so a template in several Regions gives a key per Region (kms_key: {REGION: ARN})."""
    path: SpecPath = ("creation_templates", i, "encryption", "kms_key")
    if isinstance(key, Mapping):
        if region not in key:
            issues.append(
                Issue(
                    path, f"no key for {region}, one of the template's Regions; add '{region}: ARN'"
                )
            )
        return key.get(region)
    if key is not None and kms_region(key) not in (None, region):
        issues.append(
            Issue(
                path,
                f"the key is in {kms_region(key)}, but the template is also created in {region}; "
                "ECR encrypts with a key of the repository's own Region. Give one key per Region: "
                "kms_key: {REGION: ARN, ...}",
            )
        )
    return key


def _check_unused_keys(
    key: str | Mapping[str, str] | None,
    t: SpecTemplate,
    receives: Mapping[str, list[str]],
    i: int,
    issues: list[Issue],
) -> None:
    if not isinstance(key, Mapping):
        return
    used = (
        set(t.regions)
        if t.regions is not None
        else {r for name in t.accounts for r in receives.get(name, ())}
    )
    issues.extend(
        Issue(
            ("creation_templates", i, "encryption", "kms_key", region),
            f"{region} is not one of the template's Regions; this key is never used",
            Severity.WARNING,
        )
        for region in sorted(set(key) - used)
    )


def _check_template_sizes(
    lifecycle: Mapping[str, Any] | None,
    repository: Mapping[str, Any] | None,
    i: int,
    issues: list[Issue],
) -> None:
    for key, doc, limit in (
        ("lifecycle_policy", lifecycle, limits.LIFECYCLE_POLICY_MAX_LENGTH),
        ("repository_policy", repository, limits.REPOSITORY_POLICY_MAX_LENGTH),
    ):
        size = 0 if doc is None else len(sent_json(doc))
        if size > limit.value:
            issues.append(
                Issue(
                    ("creation_templates", i, key),
                    f"{size:,} characters as the provider sends it (`<`, `>` and `&` count 6 "
                    f"each); at most {limit.value:,} {limit.what}",
                )
            )


def _fit_policy(state: RegistryState, reg: _Registry, issues: list[Issue]) -> RegistryState:
    """The registry with its grants scoped to the replicated prefixes when the policy fits the
    API's limit that way, else with every source granted `repository/*` (a warning says why);
    if even that does not fit, _check_registry reports it."""
    lim = limits.REGISTRY_POLICY_MAX_LENGTH
    if state.grant_scope == "wide" or not state.has_registry_policy:
        return state
    policy = state.registry_policy()
    assert policy is not None
    size = len(sent_json(policy))
    if size <= lim.value:
        return state
    wide = replace(state, grant_scope="wide", wide_fallback=True)
    wide_policy = wide.registry_policy()
    assert wide_policy is not None
    wide_size = len(sent_json(wide_policy))
    if wide_size == size:
        return state  # nothing to gain: _check_registry names the size
    if wide_size > lim.value:
        return wide  # too big either way: _check_registry names the smaller size
    path = reg.source_paths[0] if reg.source_paths else ("registry_policies", state.account)
    issues.append(
        Issue(
            path,
            f"the registry policy of {state.label} with grants scoped to the replicated "
            f"repository prefixes would be {size:,} characters ({len(state.grants)} source "
            f"accounts in {len(state.grant_groups())} statements); the API allows at most "
            f"{lim.value:,}, so tfgen grants these sources every repository (repository/*, "
            f"{wide_size:,} characters) instead. Set 'grants: {{scope: wide}}' on account "
            f"'{state.account}' to say so, or spread the sources over more destination registries "
            "to keep least privilege",
            Severity.WARNING,
        )
    )
    return wide


def _warn_unused_templates(
    states: tuple[RegistryState, ...], same_account: set[Key], issues: list[Issue]
) -> None:
    """A REPLICATION template where replication cannot create repositories: the grant allows
    ecr:ReplicateImage only and no rule of the account itself replicates there (same-account
    replication creates repositories through its service-linked role, whatever the policy)."""
    unused: dict[tuple[int, str], list[str]] = defaultdict(list)
    for state in states:
        if state.create_repositories or not state.grants or state.key in same_account:
            continue
        for t in state.creation_templates:
            if "REPLICATION" in t.applied_for:
                unused[(t.entry, state.account)].append(state.region)
    for (entry, account), regions in sorted(unused.items()):
        issues.append(
            Issue(
                ("creation_templates", entry, "applied_for"),
                f"account '{account}' grants source accounts ecr:ReplicateImage only "
                "(grants.create_repositories: false), so replication never creates a repository "
                f"in {', '.join(f'{account}/{r}' for r in regions)} and this template is never "
                "used for REPLICATION there; drop REPLICATION from applied_for there, or let "
                "replication create repositories",
                Severity.WARNING,
            )
        )


def _check_registry(state: RegistryState, reg: _Registry, issues: list[Issue]) -> None:
    rules = state.rules
    if rules:
        lim = limits.RULES_PER_REGISTRY
        if len(rules) > lim.value:
            entries = ", ".join(f"replication[{r.entry}]" for r in rules)
            issues.append(
                Issue(
                    ("replication", rules[lim.value].entry),
                    f"registry {state.label} gets {len(rules)} rules ({entries}); at most "
                    f"{lim.value} {lim.what}: {lim.why()}. Merge entries that share destinations",
                )
            )
        unique: dict[tuple[str, str], int] = {}  # (Region, id) → the first entry to it
        for rule in rules:
            for dest in rule.destinations:
                where = (dest.region, dest.registry_id)
                if where in unique and unique[where] != rule.entry:
                    issues.append(
                        Issue(
                            ("replication", rule.entry, "to"),
                            f"registry {state.label} already replicates to {dest.registry_id}/"
                            f"{dest.region} through replication[{unique[where]}]; images matching "
                            "both rules are replicated once, but the overlap is easy to misread",
                            Severity.WARNING,
                        )
                    )
                unique.setdefault(where, rule.entry)
            per_rule = limits.DESTINATIONS_PER_RULE
            if len(rule.destinations) > per_rule.value:
                issues.append(
                    Issue(
                        ("replication", rule.entry, "to"),
                        f"the rule for {state.label} has {len(rule.destinations)} destinations; at "
                        f"most {per_rule.value} {per_rule.what}: {per_rule.why()}",
                    )
                )
        lim = limits.UNIQUE_DESTINATIONS_PER_REGISTRY
        if len(unique) > lim.value:
            crossing = list(unique.values())[lim.value]  # the entry that adds the 26th
            issues.append(
                Issue(
                    ("replication", crossing, "to"),
                    f"registry {state.label} replicates to {len(unique)} unique destinations; at "
                    f"most {lim.value} {lim.what} ({lim.source})",
                )
            )
    policy = state.registry_policy() if state.has_registry_policy else None
    if policy is not None:
        size = len(sent_json(policy))
        lim = limits.REGISTRY_POLICY_MAX_LENGTH
        if size > lim.value:
            path = reg.source_paths[0] if reg.source_paths else ("registry_policies", state.account)
            issues.append(
                Issue(
                    path,
                    f"the registry policy of {state.label} would be {size:,} characters (grants for "
                    f"{len(state.grant_sources)} source accounts and {len(state.extra_statements)} "
                    "extra statements"
                    + (", even granting every repository" if state.wide_fallback else "")
                    + f"); the API allows at most {lim.value:,}, counted on the JSON "
                    "the provider sends (where `<`, `>` and `&` take 6 characters each). Split the "
                    "sources across more destination Regions or accounts",
                )
            )


def _warn_chains(
    states: tuple[RegistryState, ...], accounts: Mapping[str, AccountState], issues: list[Issue]
) -> None:
    """A→B and B→C without A→C: ECR does not replicate onward, so C never gets A's images."""
    by_id = {a.account_id: a.name for a in accounts.values()}
    outgoing: dict[Key, dict[Key, int]] = {}
    for s in states:
        targets: dict[Key, int] = {}
        for rule in s.rules:
            for d in rule.destinations:
                targets.setdefault((by_id[d.registry_id], d.region), rule.entry)
        if targets:
            outgoing[s.key] = targets
    reported: set[tuple[Key, Key]] = set()
    for a, targets in sorted(outgoing.items()):
        for b, entry in targets.items():
            for c, onward_entry in outgoing.get(b, {}).items():
                if c == a or c in targets or (a, c) in reported:
                    continue
                reported.add((a, c))
                issues.append(
                    Issue(
                        ("replication", onward_entry),
                        f"{a[0]}/{a[1]} replicates to {b[0]}/{b[1]} (replication[{entry}]), which "
                        f"replicates on to {c[0]}/{c[1]}; ECR does not replicate onward, so "
                        f"{c[0]}/{c[1]} never gets images pushed to {a[0]}/{a[1]}. Add it as a "
                        "direct destination if it should",
                        Severity.WARNING,
                    )
                )


def compile_loaded(loaded: LoadedSpec) -> DesiredState:
    """Compile a loaded spec; raise SpecError (with file and line) if any registry breaks a limit."""
    with cycle_collection_paused():
        state, issues = compile_model(loaded.spec)
    located = list(dict.fromkeys(loaded.positions.issue(i) for i in issues))
    if any(i.severity is Severity.ERROR for i in located):
        raise SpecError([*loaded.warnings, *located])
    return replace(state, warnings=(*loaded.warnings, *located))


__all__ = ["GRANT_SID", "compile_loaded", "compile_model"]
