"""Replication grants (issue 10): scoped to the replicated prefixes by default, packed into
statements with stable Sids, the wide form by choice or when the scoped one does not fit, and
ReplicateImage-only destinations; how explain and verify read them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import iam, specgen
from tfgen import explain as ex
from tfgen.aws.live import LiveRegistry
from tfgen.aws.verify import Status, compare
from tfgen.compile import compile_loaded
from tfgen.spec import load_spec_text
from tfgen.spec.issues import SpecError
from tfgen.state import DesiredState, RegistryState, SourceGrant

BUILD, PROD, CI = "111111111111", "222222222222", "333333333333"
SPEC = f"""\
version: 1
{{defaults}}accounts:
  build: {{{{id: "{BUILD}"}}}}
  ci: {{{{id: "{CI}"}}}}
  prod: {{{{id: "{PROD}"{{prod}}}}}}
replication:
  - from: {{{{account: build, regions: [us-east-1]}}}}
    to: [{{{{account: prod, regions: [us-east-1]}}}}]
    filters: [team-a/, base, team-a/app]
  - from: {{{{account: ci, regions: [us-east-1]}}}}
    to: [{{{{account: prod, regions: [us-east-1]}}}}]
{{registry_policies}}"""


def _spec(defaults: str = "", prod: str = "", registry_policies: str = "") -> str:
    return SPEC.format(defaults=defaults, prod=prod, registry_policies=registry_policies)


def _prod(text: str) -> RegistryState:
    state = compile_loaded(load_spec_text(text))
    return next(r for r in state.registries if r.account == "prod")


ARN = f"arn:aws:ecr:us-east-1:{PROD}:repository/"
BOTH = ["ecr:CreateRepository", "ecr:ReplicateImage"]


def test_grants_are_scoped_to_the_replicated_prefixes() -> None:
    prod = _prod(_spec())
    policy = prod.registry_policy()
    assert policy is not None
    assert policy["Statement"] == [
        {  # ci replicates every repository: the statement of every repository comes first
            "Sid": "TfgenReplication",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{CI}:root"]},
            "Action": BOTH,
            "Resource": [f"{ARN}*"],
        },
        {  # team-a/app is under team-a/; base is a prefix, not a path
            "Sid": "TfgenReplicationc304c86f",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{BUILD}:root"]},
            "Action": BOTH,
            "Resource": [f"{ARN}base*", f"{ARN}team-a/*"],
        },
    ]
    for name, allowed in (("baseline", True), ("team-a/x", True), ("team-a", False)):
        assert iam.allows(policy, BUILD, "aws", "ecr:ReplicateImage", ARN + name) is allowed


@pytest.mark.parametrize(
    ("defaults", "prod"),
    [
        ("defaults:\n  grants: {scope: wide}\n", ""),
        ("", ", grants: {scope: wide}"),
        ("defaults:\n  grants: {scope: scoped}\n", ", grants: {scope: wide}"),
    ],
)
def test_the_wide_grant_is_a_setting(defaults: str, prod: str) -> None:
    registry = _prod(_spec(defaults, prod))
    (statement,) = registry.grant_statements()
    assert statement["Sid"] == "TfgenReplication"
    assert statement["Principal"] == {
        "AWS": [f"arn:aws:iam::{BUILD}:root", f"arn:aws:iam::{CI}:root"]
    }
    assert statement["Resource"] == [f"{ARN}*"]
    assert not registry.wide_fallback
    grant = ex.grant_sentence(
        ex.explain(compile_loaded(load_spec_text(_spec(defaults, prod)))).grants[0]
    )
    assert grant.endswith("(every repository because grants.scope: wide).")


def test_an_account_setting_overrides_the_default() -> None:
    registry = _prod(_spec("defaults:\n  grants: {scope: wide}\n", ", grants: {scope: scoped}"))
    assert len(registry.grant_statements()) == 2


def test_replicate_only_destinations() -> None:
    text = _spec(prod=", grants: {create_repositories: false}")
    registry = _prod(text)
    assert {tuple(s["Action"]) for s in registry.grant_statements()} == {("ecr:ReplicateImage",)}
    expl = ex.explain(compile_loaded(load_spec_text(text)))
    assert ex.grant_sentence(expl.grants[0]) == (
        f"prod/us-east-1 lets build ({BUILD}) replicate repositories starting with base or "
        f"team-a/ into it, and ci ({CI}) every repository (ecr:ReplicateImage only: the "
        "repositories must exist already)."
    )
    data = ex.to_json(expl)["grants"][0]
    assert data["actions"] == ["ecr:ReplicateImage"]
    assert data["sources"][0]["repositories"] == ["base*", "team-a/*"]


def test_a_deny_of_create_repository_takes_nothing_from_a_replicate_only_grant() -> None:
    deny = (
        "registry_policies:\n  prod:\n    statements:\n"
        f'      - {{Sid: NoCreate, Effect: Deny, Principal: {{AWS: "{CI}"}}, '
        'Action: "ecr:CreateRepository", Resource: "*"}\n'
    )
    with pytest.raises(SpecError) as err:
        compile_loaded(load_spec_text(_spec(registry_policies=deny)))
    assert "blocks ecr:CreateRepository for ci" in err.value.format()
    text = _spec(prod=", grants: {create_repositories: false}", registry_policies=deny)
    warnings = compile_loaded(load_spec_text(text)).warnings
    assert not [w for w in warnings if "Deny" in w.message]


@pytest.mark.parametrize(
    ("sid", "refused"),
    [
        ("TfgenReplication", True),
        ("TfgenReplicationc304c86f", True),
        ("TfgenReplication0", True),
        ("TfgenReplicationImported", False),
        ("TfgenReplicationC304", False),
    ],
)
def test_the_grant_sids_are_reserved(sid: str, refused: bool) -> None:
    statement = (
        "registry_policies:\n  prod:\n    statements:\n"
        f'      - {{Sid: {sid}, Effect: Allow, Principal: {{AWS: "999999999999"}}, '
        'Action: "ecr:ReplicateImage", Resource: "*"}\n'
    )
    if refused:
        with pytest.raises(SpecError) as err:
            compile_loaded(load_spec_text(_spec(registry_policies=statement)))
        assert "has the form of the Sids tfgen gives its replication grants" in err.value.format()
    else:
        compile_loaded(load_spec_text(_spec(registry_policies=statement)))


# --- size: the scoped grants, else the wide one, else an error ------------------------------------


def _fan_in(sources: int, filters: int) -> dict[str, Any]:
    """`sources` accounts replicating to sink/us-east-1, each with its own `filters` filters."""
    spec = specgen.fan_in(sources)
    for i, entry in enumerate(spec["replication"]):
        entry["filters"] = [f"s{i:03d}-team-{k:02d}/" for k in range(filters)]
    return spec


def _compile(spec: dict[str, Any]) -> DesiredState:
    return compile_loaded(load_spec_text(specgen.to_yaml(spec), "fan-in.yaml"))


def test_scoped_grants_too_big_fall_back_to_the_wide_grant() -> None:
    state = _compile(_fan_in(40, 3))
    (sink,) = [r for r in state.registries if r.account == "sink"]
    assert sink.grant_scope == "wide" and sink.wide_fallback
    (statement,) = sink.grant_statements()
    assert statement["Resource"] == [f"{sink.repository_arn}*"]
    (warning,) = [w for w in state.warnings if "scoped" in w.message]
    assert warning.where == "replication[0]"
    assert (
        "with grants scoped to the replicated repository prefixes would be" in warning.message
        and "(40 source accounts in 40 statements); the API allows at most 10,240, so tfgen "
        "grants these sources every repository (repository/*, "
        in warning.message
    )
    assert "Set 'grants: {scope: wide}' on account 'sink' to say so" in warning.message
    policy = sink.registry_policy()
    assert policy is not None and iam.sent_length(policy) <= 10240
    expl = ex.explain(state)
    assert "because the grants scoped to prefixes would not fit the policy" in ex.grant_sentence(
        expl.grants[0]
    )


def test_scoped_grants_that_fit_are_kept() -> None:
    (sink,) = [r for r in _compile(_fan_in(20, 3)).registries if r.account == "sink"]
    assert sink.grant_scope == "scoped" and len(sink.grant_statements()) == 20


def test_when_even_the_wide_grant_is_too_big_it_is_an_error() -> None:
    with pytest.raises(SpecError) as err:
        _compile(_fan_in(350, 1))
    assert "(grants for 350 source accounts and 0 extra statements, even granting every " in (
        err.value.format()
    )


# --- packing: Sids that stay when a source moves --------------------------------------------------

PREFIXES = ("ab", "abc", "team-a/", "team-b/", "base", "x1", "")


@st.composite
def grants(draw: st.DrawFn) -> dict[str, tuple[str, ...]]:
    ids = draw(st.lists(st.integers(1, 60), min_size=1, max_size=25, unique=True))
    return {
        specgen.account_id(i): tuple(
            sorted(draw(st.sets(st.sampled_from(PREFIXES), min_size=1, max_size=3)))
        )
        for i in ids
    }


def _registry(by_source: dict[str, tuple[str, ...]]) -> RegistryState:
    from tfgen.state import minimal_prefixes

    return RegistryState(
        "sink",
        PROD,
        "us-east-1",
        "aws",
        grants=tuple(SourceGrant(i, minimal_prefixes(p)) for i, p in sorted(by_source.items())),
    )


@settings(max_examples=200, deadline=None)
@given(grants(), st.data())
def test_a_source_that_moves_changes_only_the_statements_it_leaves_and_joins(
    before: dict[str, tuple[str, ...]], data: st.DataObject
) -> None:
    mover = data.draw(st.sampled_from(sorted(before)))
    after = dict(before)
    after[mover] = tuple(sorted(data.draw(st.sets(st.sampled_from(PREFIXES), min_size=1))))
    old = {s["Sid"]: s for s in _registry(before).grant_statements()}
    new_statements = _registry(after).grant_statements()
    new = {s["Sid"]: s for s in new_statements}
    root = f"arn:aws:iam::{mover}:root"
    changed = {sid for sid in old.keys() | new.keys() if old.get(sid) != new.get(sid)}
    # Only the statement the mover leaves and the one it joins change; the rest keep their Sid,
    # their text and their order.
    assert len(changed) <= 2
    for sid in changed:
        named = [*(old.get(sid) or {}).get("Principal", {}).get("AWS", [])]
        named += (new.get(sid) or {}).get("Principal", {}).get("AWS", [])
        assert root in named, (sid, old.get(sid), new.get(sid))
    kept = [sid for sid in new if sid not in changed]
    assert kept == [sid for sid in old if sid not in changed]
    sids = [s["Sid"] for s in new_statements]
    assert len(sids) == len(set(sids))
    named = [p for s in new_statements for p in s["Principal"]["AWS"]]
    assert sorted(named) == sorted(f"arn:aws:iam::{i}:root" for i in after)


# --- verify reads both forms ----------------------------------------------------------------------


def _live(registry: RegistryState, statements: list[dict[str, Any]]) -> LiveRegistry:
    policy = {"Version": "2012-10-17", "Statement": statements}
    return LiveRegistry(registry.account, registry.account_id, registry.region, None, policy, None)


def test_verify_tells_the_wide_grant_from_the_scoped_one() -> None:
    scoped = _prod(_spec())
    wide = _prod(_spec(prod=", grants: {scope: wide}"))
    # What an older tfgen (or grants.scope: wide) wrote: in sync with the wide spec.
    live = _live(scoped, wide.grant_statements())
    assert compare(wide, live).status is Status.IN_SYNC
    verdict = compare(scoped, live)
    assert verdict.status is Status.DRIFT
    assert [d.format() for d in verdict.differences] == [
        f"registry policy grant to {BUILD}: changed: live ecr:CreateRepository, "
        "ecr:ReplicateImage on repository/* (live statement TfgenReplication); tfgen "
        "ecr:CreateRepository, ecr:ReplicateImage on repository/base*, repository/team-a/*"
    ]


def test_verify_finds_grants_packed_otherwise() -> None:
    scoped = _prod(_spec())
    one_each = [dict(s, Sid=f"ByHand{k}") for k, s in enumerate(scoped.grant_statements())]
    verdict = compare(scoped, _live(scoped, one_each))
    assert [d.format() for d in verdict.differences] == [
        "registry policy replication grants: changed: the same permissions, in other "
        "statements: live ByHand0, ByHand1; tfgen writes TfgenReplication, "
        "TfgenReplicationc304c86f"
    ]


def test_verify_reads_replicate_only_grants() -> None:
    replicate_only = _prod(_spec(prod=", grants: {create_repositories: false}"))
    live = _live(replicate_only, _prod(_spec()).grant_statements())
    differences = [d.format() for d in compare(replicate_only, live).differences]
    assert len(differences) == 2
    assert differences[1] == (
        f"registry policy grant to {CI}: changed: live ecr:CreateRepository, ecr:ReplicateImage "
        "on repository/* (live statement TfgenReplication); tfgen ecr:ReplicateImage on "
        "repository/*"
    )
