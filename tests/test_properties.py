"""Property-based tests of the compiled desired state (hypothesis).

Random valid-ish specs (a handful of accounts in one or two partitions, random replication entries,
filters from a small alphabet, registry policy statements with and without Sids, creation
templates) go through the real pipeline: YAML text → load → checks → compile. Each one is either
rejected with a SpecError, or its output satisfies the invariants below. A small independent model
of the spec's semantics (issue 2, section 1) says what the output must be.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import iam, specgen
from tfgen import limits
from tfgen.compile import compile_loaded
from tfgen.spec import load_spec_text
from tfgen.spec.issues import SpecError
from tfgen.state import DesiredState

REGIONS = {
    "aws": ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1"),
    "aws-cn": specgen.CN_REGIONS,
}
FILTERS = ("ab", "abc", "team-a/", "team-a/app", "team-b/", "base", "x1")
SIDS = ("Audit", "PullOnly", "Extra")
FOREIGN = "999999999999"  # principal of user statements: never one of the generated accounts
REPLICATE, CREATE = "ecr:ReplicateImage", "ecr:CreateRepository"
GRANT_SID = re.compile(r"TfgenReplication[0-9a-f]*")  # docs/spec.md, "Replication grants"
# Repository names to ask the policies about: each filter, longer names under it, and names that
# a filter does not cover (`team-a` is not under `team-a/`; `baseline` is under `base`).
NAMES = tuple(
    sorted(
        {f for f in FILTERS}
        | {f + "x" for f in FILTERS}
        | {f + "/img" for f in FILTERS}
        | {"team-a", "team-c/app", "baseline", "bas", "a", "x", "zz/top", "abd"}
    )
)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

Key = tuple[str, str]


# ---- generating specs ----------------------------------------------------------------------


@st.composite
def statements(draw: st.DrawFn, partition: str, min_size: int = 0) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(min_size, 3))):
        statement: dict[str, Any] = {
            "Effect": draw(st.sampled_from(["Allow", "Deny"])),
            "Principal": {"AWS": f"arn:{partition}:iam::{FOREIGN}:root"},
            "Action": draw(
                st.sampled_from([["ecr:ReplicateImage"], "ecr:CreateRepository", ["ecr:*"]])
            ),
            "Resource": "*",
        }
        sid = draw(st.none() | st.sampled_from(SIDS))
        if sid is not None:
            statement = {"Sid": sid, **statement}
        out.append(statement)
    return out


@st.composite
def grant_settings(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["scope"] = draw(st.sampled_from(["scoped", "wide"]))
    if draw(st.booleans()):
        out["create_repositories"] = draw(st.booleans())
    return out


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 5))
    two_partitions = draw(st.integers(0, 3)) == 0
    numbers = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))
    accounts: dict[str, dict[str, str]] = {}
    for i, number in enumerate(numbers):
        partition = "aws-cn" if two_partitions and draw(st.booleans()) else "aws"
        account = {"id": specgen.account_id(number)}
        if partition != "aws" or draw(st.booleans()):
            account["partition"] = partition
        accounts[f"acct{i}"] = account
    names = list(accounts)

    def partition_of(name: str) -> str:
        return accounts[name].get("partition", "aws")

    def regions(name: str, min_size: int = 1) -> list[str]:
        pool = REGIONS[partition_of(name)]
        return draw(st.lists(st.sampled_from(pool), min_size=min_size, max_size=3, unique=True))

    replication = []
    for i in range(draw(st.integers(0, 7))):
        src = draw(st.sampled_from(names))
        same = [n for n in names if partition_of(n) == partition_of(src)]
        # Now and then a target of the other partition: the spec must then be rejected.
        pool = names if draw(st.integers(0, 9)) == 0 else same
        targets = [
            {"account": t, "regions": regions(t)}
            for t in draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
        ]
        entry: dict[str, Any] = {"from": {"account": src, "regions": regions(src)}, "to": targets}
        if draw(st.booleans()):
            entry["name"] = f"entry-{i}"
        filters = draw(st.none() | st.lists(st.sampled_from(FILTERS), max_size=4, unique=True))
        if filters is not None:
            entry["filters"] = filters
        replication.append(entry)

    for name in names:
        if draw(st.integers(0, 3)) == 0:
            accounts[name]["grants"] = draw(grant_settings())  # type: ignore[assignment]
    spec: dict[str, Any] = {"version": 1, "accounts": accounts, "replication": replication}
    if draw(st.booleans()):
        spec["defaults"] = {"grants": draw(grant_settings())}
    policies = {}
    for name in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
        explicit = draw(st.booleans())
        policy: dict[str, Any] = {
            # An explicit Region list with no statement makes compile emit an empty registry
            # (see test_policy_without_statements_adds_no_registry); keep those out of here.
            "statements": draw(statements(partition_of(name), min_size=1 if explicit else 0))
        }
        if explicit:
            policy["regions"] = regions(name)
        policies[name] = policy
    if policies:
        spec["registry_policies"] = policies
    templates = []
    for _ in range(draw(st.integers(0, 2))):
        template: dict[str, Any] = {
            "accounts": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)),
            "prefix": draw(st.sampled_from(["ROOT", "team-a", "base/"])),
        }
        if draw(st.booleans()):
            template["regions"] = regions(template["accounts"][0])
        templates.append(template)
    if templates:
        spec["creation_templates"] = templates
    return spec


# ---- an independent model of what compile must produce -------------------------------------


@dataclass
class Model:
    rules: dict[Key, list[tuple[list[tuple[str, str]], list[str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    grants: dict[Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    # (destination account, Region) → source id → the filters of its rules there ("" = all)
    filters: dict[Key, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(dict))
    wide: dict[str, bool] = field(default_factory=dict)  # account → grants every repository
    create: dict[str, bool] = field(default_factory=dict)  # account → allows CreateRepository
    statements: dict[Key, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    templates: dict[Key, list[str]] = field(default_factory=lambda: defaultdict(list))
    problems: list[str] = field(default_factory=list)


def model_of(spec: dict[str, Any]) -> Model:
    """What issue 2 §1 says the spec means, and the reasons it must be rejected."""
    m = Model()
    accounts = spec["accounts"]
    shared = spec.get("defaults", {}).get("grants", {})
    for name, account in accounts.items():
        own = account.get("grants", {})
        m.wide[name] = own.get("scope", shared.get("scope", "scoped")) == "wide"
        m.create[name] = own.get("create_repositories", shared.get("create_repositories", True))
    ident = {name: a["id"] for name, a in accounts.items()}
    part = {name: a.get("partition", "aws") for name, a in accounts.items()}
    receives: dict[str, set[str]] = defaultdict(set)
    for i, entry in enumerate(spec["replication"]):
        src = entry["from"]["account"]
        for target in entry["to"]:
            if part[target["account"]] != part[src]:
                m.problems.append(f"replication[{i}] crosses partitions")
        for region in entry["from"]["regions"]:
            dests: list[tuple[str, str]] = []
            for target in entry["to"]:
                for dest_region in target["regions"]:
                    if (target["account"], dest_region) == (src, region):
                        continue
                    dest = (dest_region, ident[target["account"]])
                    if dest not in dests:
                        dests.append(dest)
                    receives[target["account"]].add(dest_region)
                    if target["account"] != src:
                        m.grants[(target["account"], dest_region)].add(ident[src])
                        wanted = m.filters[(target["account"], dest_region)]
                        wanted.setdefault(ident[src], set()).update(entry.get("filters") or [""])
            if not dests:
                m.problems.append(f"replication[{i}] has a rule with no destination")
                continue
            m.rules[(src, region)].append((dests, list(entry.get("filters", []))))
    for key, rules in m.rules.items():
        unique = {d for dests, _ in rules for d in dests}
        if len(rules) > limits.RULES_PER_REGISTRY.value:
            m.problems.append(f"{key} has {len(rules)} rules")
        if len(unique) > limits.UNIQUE_DESTINATIONS_PER_REGISTRY.value:
            m.problems.append(f"{key} has {len(unique)} unique destinations")
    for i, template in enumerate(spec.get("creation_templates", [])):
        for name in template["accounts"]:
            regions = template.get("regions")
            if regions is None:
                regions = sorted(receives[name])
                if not regions:
                    m.problems.append(f"creation_templates[{i}]: {name} receives nothing")
            elif any(r not in REGIONS[part[name]] for r in regions):
                m.problems.append(f"creation_templates[{i}]: Region of another partition")
            for region in regions:
                if template["prefix"] in m.templates[(name, region)]:
                    m.problems.append(f"creation_templates[{i}]: prefix twice in {name}/{region}")
                    continue
                m.templates[(name, region)].append(template["prefix"])
    # Templates first: a registry that only holds a template is managed, so it gets the policy.
    managed = {*m.rules, *m.grants, *(k for k, v in m.templates.items() if v)}
    for name, policy in spec.get("registry_policies", {}).items():
        sids = [s["Sid"] for s in policy["statements"] if "Sid" in s]
        if len(sids) != len(set(sids)):
            m.problems.append(f"registry_policies.{name} repeats a Sid")
        regions = policy.get("regions")
        if regions is None:
            regions = sorted(r for n, r in managed if n == name)
            if not regions:
                m.problems.append(f"registry_policies.{name} has no Region")
        for region in regions:
            m.statements[(name, region)].extend(policy["statements"])
    return m


# ---- running the pipeline ------------------------------------------------------------------


def compile_text(text: str) -> DesiredState | SpecError:
    try:
        return compile_loaded(load_spec_text(text, "prop.yaml"))
    except SpecError as exc:
        return exc


def compile_spec_dict(spec: dict[str, Any]) -> DesiredState | SpecError:
    return compile_text(specgen.to_yaml(spec))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    return as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []


def is_grant(statement: dict[str, Any]) -> bool:
    return GRANT_SID.fullmatch(str(statement.get("Sid", ""))) is not None


# ---- the invariants ------------------------------------------------------------------------


def check_invariants(spec: dict[str, Any], state: DesiredState) -> None:
    for registry in state.registries:  # render and compile ask this without building the policy
        assert registry.has_registry_policy == (registry.registry_policy() is not None)
    out = state.to_json()
    by_key = {(r["account_id"], r["region"]): r for r in out}
    assert len(by_key) == len(out), "two entries for one registry"

    for reg in out:
        config = reg["replication_configuration"]
        rules = config["rules"] if config else []
        policy = reg["registry_policy"]
        # Only registries with something to manage are listed.
        assert rules or policy or reg["creation_templates"], reg

        # Limits, as the ECR API counts them.
        assert len(rules) <= limits.RULES_PER_REGISTRY.value
        unique = {(d["region"], d["registryId"]) for r in rules for d in r["destinations"]}
        assert len(unique) <= limits.UNIQUE_DESTINATIONS_PER_REGISTRY.value
        for rule in rules:
            assert 1 <= len(rule["destinations"]) <= limits.DESTINATIONS_PER_RULE.value
            assert len(rule.get("repositoryFilters", [])) <= limits.FILTERS_PER_RULE.value
            assert "repositoryFilters" not in rule or rule["repositoryFilters"]
            # No rule replicates a registry to itself.
            assert (reg["region"], reg["account_id"]) not in {
                (d["region"], d["registryId"]) for d in rule["destinations"]
            }
        if policy is not None:
            assert iam.sent_length(policy) <= limits.REGISTRY_POLICY_MAX_LENGTH.value
            sids = [st["Sid"] for st in policy["Statement"] if "Sid" in st]
            assert len(sids) == len(set(sids)), sids

        # Every cross-account destination is a registry with a policy.
        for rule in rules:
            for d in rule["destinations"]:
                if d["registryId"] != reg["account_id"]:
                    dest = by_key.get((d["registryId"], d["region"]))
                    assert dest is not None and dest["registry_policy"], d

        # No grant without a rule that needs it; each source in one statement.
        generated = [s for s in (policy or {}).get("Statement", []) if is_grant(s)]
        named = [p for s in generated for p in principals(s)]
        assert len(named) == len(set(named)), generated
        for statement in generated:
            for principal in principals(statement):
                prefix, _, rest = principal.partition("::")
                assert prefix == f"arn:{reg['partition']}:iam"
                src = rest.removesuffix(":root")
                assert src != reg["account_id"]
                assert any(
                    {"region": reg["region"], "registryId": reg["account_id"]}
                    in rule["destinations"]
                    for source in out
                    if source["account_id"] == src and source["replication_configuration"]
                    for rule in source["replication_configuration"]["rules"]
                ), f"grant to {src} in {reg['account']}/{reg['region']} without a rule"

    # The output is what the model says, registry by registry.
    model = model_of(spec)
    assert not model.problems, f"accepted although {model.problems}"
    names = {a.account_id: a.name for a in state.accounts.values()}
    got_rules = {
        (names[r["account_id"]], r["region"]): [
            (
                [(d["region"], d["registryId"]) for d in rule["destinations"]],
                [f["filter"] for f in rule.get("repositoryFilters", [])],
            )
            for rule in r["replication_configuration"]["rules"]
        ]
        for r in out
        if r["replication_configuration"]
    }
    assert got_rules == dict(model.rules)
    got_grants = {
        (names[r["account_id"]], r["region"]): {
            p.split("::")[1].removesuffix(":root")
            for s in r["registry_policy"]["Statement"]
            if is_grant(s)
            for p in principals(s)
        }
        for r in out
        if r["registry_policy"]
    }
    assert {k: v for k, v in got_grants.items() if v} == dict(model.grants)
    for r in out:
        key = (names[r["account_id"]], r["region"])
        extra = [s for s in (r["registry_policy"] or {}).get("Statement", []) if not is_grant(s)]
        assert extra == model.statements.get(key, [])
        assert [t["prefix"] for t in r["creation_templates"]] == model.templates.get(key, [])
    expected = (
        set(model.rules)
        | set(model.grants)
        | {k for k, v in model.statements.items() if v}
        | {k for k, v in model.templates.items() if v}
    )
    assert {(names[r["account_id"]], r["region"]) for r in out} == expected
    check_least_privilege(model, state)


def check_least_privilege(model: Model, state: DesiredState) -> None:
    """Issue 10's property, by an IAM evaluator of the tests' own (tests/iam.py): every compiled
    registry policy allows each account exactly the (action, repository) pairs the rules need:
    ecr:ReplicateImage on every repository a source replicates there, ecr:CreateRepository too
    unless the destination says `create_repositories: false`, and nothing else. A destination
    with `scope: wide` grants its sources every repository."""
    for r in state.to_json():
        name = next(a.name for a in state.accounts.values() if a.account_id == r["account_id"])
        wanted = model.filters.get((name, r["region"]), {})
        arn = f"arn:{r['partition']}:ecr:{r['region']}:{r['account_id']}:repository/"
        for account in state.accounts.values():
            filters = wanted.get(account.account_id)
            for repository in NAMES:
                replicated = filters is not None and (
                    model.wide[name] or any(repository.startswith(f) for f in filters)
                )
                for action, needed in (
                    (REPLICATE, replicated),
                    (CREATE, replicated and model.create[name]),
                ):
                    got = iam.allows(
                        r["registry_policy"],
                        account.account_id,
                        r["partition"],
                        action,
                        arn + repository,
                    )
                    assert got == needed, (account.name, action, repository, r["registry_policy"])


@SETTINGS
@given(specs())
def test_compiled_state_invariants(spec: dict[str, Any]) -> None:
    result = compile_spec_dict(spec)
    if isinstance(result, SpecError):
        # Rejected: only when the model knows a reason, and always with a located error.
        assert model_of(spec).problems, result.format()
        errors = [i for i in result.issues if i.severity.value == "error"]
        assert errors and all(i.file == "prop.yaml" and i.line for i in errors), result.format()
        return
    check_invariants(spec, result)


@settings(SETTINGS, max_examples=40)
@given(specs(), st.randoms(use_true_random=False))
def test_compile_is_deterministic(spec: dict[str, Any], rnd: random.Random) -> None:
    text = specgen.to_yaml(spec)
    first, second = compile_text(text), compile_text(text)
    shuffled = dict(spec)
    names = list(spec["accounts"])
    rnd.shuffle(names)
    shuffled["accounts"] = {n: spec["accounts"][n] for n in names}
    if "registry_policies" in spec:
        keys = list(spec["registry_policies"])
        rnd.shuffle(keys)
        shuffled["registry_policies"] = {k: spec["registry_policies"][k] for k in keys}
    reordered = compile_spec_dict(shuffled)
    if isinstance(first, SpecError):
        assert isinstance(second, SpecError) and isinstance(reordered, SpecError)
        assert first.format() == second.format()
        assert {(i.where, i.message) for i in first.issues} == {
            (i.where, i.message) for i in reordered.issues
        }
        return
    assert isinstance(second, DesiredState) and isinstance(reordered, DesiredState)
    as_text = json.dumps(first.to_json(), indent=2)
    assert as_text == json.dumps(second.to_json(), indent=2)
    assert as_text == json.dumps(reordered.to_json(), indent=2)
    assert [w.format() for w in first.warnings] == [w.format() for w in second.warnings]


# ---- limits: accepted exactly up to the limit ----------------------------------------------


def rejected_with(result: DesiredState | SpecError, *words: str) -> bool:
    if not isinstance(result, SpecError):
        return False
    text = result.format()
    assert all(w in text for w in words), text
    return True


@settings(SETTINGS, max_examples=12)
@given(st.integers(1, 14))
def test_rules_per_registry_limit(rules: int) -> None:
    result = compile_spec_dict(specgen.too_many_rules(rules))
    over = rules > limits.RULES_PER_REGISTRY.value
    assert rejected_with(result, f"gets {rules} rules") == over
    if not over:
        assert isinstance(result, DesiredState)
        check_invariants(specgen.too_many_rules(rules), result)


@settings(SETTINGS, max_examples=15)
@given(st.lists(st.integers(1, 14), min_size=1, max_size=3))
def test_unique_destinations_limit(per_rule: list[int]) -> None:
    spec = specgen.many_destinations(per_rule)
    result = compile_spec_dict(spec)
    total = sum(per_rule)
    over = total > limits.UNIQUE_DESTINATIONS_PER_REGISTRY.value
    assert rejected_with(result, f"replicates to {total} unique destinations") == over
    if not over:
        assert isinstance(result, DesiredState)
        check_invariants(spec, result)


@settings(SETTINGS, max_examples=10)
@given(st.integers(95, 105))
def test_filters_per_rule_limit(count: int) -> None:
    result = compile_spec_dict(specgen.many_filters(count))
    over = count > limits.FILTERS_PER_RULE.value
    assert rejected_with(result, f"{count} filters; at most 100") == over


@settings(SETTINGS, max_examples=6)
@given(st.integers(280, 340))
def test_policy_size_limit(sources: int) -> None:
    spec = specgen.fan_in(sources)
    result = compile_spec_dict(spec)
    # 222 characters of statement around 33 per source account (see test_spec_errors).
    fits = 222 + 33 * sources - 1 <= limits.REGISTRY_POLICY_MAX_LENGTH.value
    assert rejected_with(result, f"grants for {sources} source accounts") != fits
    if fits:
        assert isinstance(result, DesiredState)
        check_invariants(spec, result)


# ---- known bugs ----------------------------------------------------------------------------


def test_policy_without_statements_adds_no_registry() -> None:
    spec = specgen.spec(
        specgen.accounts(2),
        [specgen.entry("a0", ["us-east-1"], ("a1", ["us-east-1"]))],
        registry_policies={"a1": {"statements": [], "regions": ["eu-west-1"]}},
    )
    result = compile_spec_dict(spec)
    assert isinstance(result, DesiredState)
    check_invariants(spec, result)
