"""Spec changes on an applied organisation: the plan summary is exactly the compiled difference,
apply makes the live registries equal the compiled state, verify says in sync."""

from __future__ import annotations

import pytest

from tests.e2e import delta, specs
from tests.e2e.harness import World, normalised


def applied(world: World, text: str) -> list[dict[str, object]]:
    """Render, plan and apply `text`; returns its compiled state."""
    world.write_spec(text)
    world.render()
    plan = world.plan()
    assert plan.code == 2, plan.output
    run = world.apply()
    assert run.code == 0, run.output
    return world.compiled()


def change(world: World, before: str, after: str, *, replan: bool = False, case: str = "") -> None:
    old = applied(world, before)
    world.write_spec(after)
    world.render()
    new = world.compiled()
    plan = world.plan()
    assert plan.code == 2, plan.output
    assert plan.report is not None
    expected = delta.expected(old, new)
    assert delta.observed(plan.report) == expected
    if case:
        world.record(case, plan, expected)
    run = world.apply()
    assert run.code == 0, run.output
    assert normalised(world.live(new)) == normalised(new)
    gone = [
        r
        for r in old
        if (r["account"], r["region"]) not in {(n["account"], n["region"]) for n in new}
    ]
    for registry in world.live(gone):
        assert registry["replication_configuration"] is None, registry
        assert registry["registry_policy"] is None, registry
        assert registry["creation_templates"] == [], registry
    code, verdict = world.verify()
    assert code == 0, verdict
    if replan:
        assert world.plan("--all").code == 0


TWO_RULES = specs.spec(
    """\
    replication:
      - name: build-to-prod
        from: {account: build, regions: [us-east-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
      - name: build-dr
        from: {account: build, regions: [us-east-1]}
        to: [{account: build, regions: [us-west-2]}]
    """
)

REPLICATE_ONLY = specs.BASE.replace(
    f'prod: {{id: "{specs.PROD}"}}',
    f'prod: {{id: "{specs.PROD}", grants: {{create_repositories: false}}}}',
)
WIDE = specs.BASE.replace("accounts:\n", "  grants: {scope: wide}\naccounts:\n", 1)

CASES = {
    "add-destination-region": specs.BASE.replace(
        "to: [{account: prod, regions: [us-east-1]}]",
        "to: [{account: prod, regions: [us-east-1, eu-west-1]}]",
    ),
    "add-account": specs.BASE.replace(
        "to: [{account: prod, regions: [us-east-1]}]",
        "to: [{account: prod, regions: [us-east-1]}, {account: staging, regions: [us-east-1]}]",
    ),
    "change-filters": specs.BASE.replace("filters: [team-a/]", "filters: [team-a/, base/]"),
    "replicate-only": REPLICATE_ONLY,
    "wide-grants": WIDE,
    "add-template": specs.BASE
    + "creation_templates:\n"
    + "  - accounts: [prod]\n"
    + "    prefix: team-a\n"
    + "    image_tag_mutability: IMMUTABLE\n",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_spec_change(world: World, case: str) -> None:
    change(world, specs.BASE, CASES[case], case=case)


def test_remove_a_rule(world: World) -> None:
    change(world, TWO_RULES, specs.BASE, replan=True, case="remove-a-rule")


SHARED = specs.spec(
    """\
    replication:
      - name: build-to-prod
        from: {account: build, regions: [us-east-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
      - name: staging-to-prod
        from: {account: staging, regions: [us-east-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
    """
)


def test_push_a_destinations_grant_past_a_statement_boundary(world: World) -> None:
    """build and staging share prod's team-a/ statement; staging's filters grow, so it moves to
    a statement of its own. The plan says exactly that: the new statement, staging's new access,
    nothing about build's statement but the principal it loses (no grant lost or gained)."""
    before = applied(world, SHARED)
    (shared,) = next(r for r in before if r["account"] == "prod")["registry_policy"]["Statement"]
    assert len(shared["Principal"]["AWS"]) == 2
    moved = SHARED.replace(
        "from: {account: staging, regions: [us-east-1]}\n    to: [{account: prod, regions: "
        "[us-east-1]}]\n    filters: [team-a/]",
        "from: {account: staging, regions: [us-east-1]}\n    to: [{account: prod, regions: "
        "[us-east-1]}]\n    filters: [team-a/, base]",
    )
    assert moved != SHARED
    world.write_spec(moved)
    world.render()
    after = world.compiled()
    statements = next(r for r in after if r["account"] == "prod")["registry_policy"]["Statement"]
    # build's statement keeps its Sid and its text, less staging; staging's has a new Sid
    (kept,) = [s for s in statements if s["Sid"] == shared["Sid"]]
    assert kept == {**shared, "Principal": {"AWS": [f"arn:aws:iam::{specs.BUILD}:root"]}}
    (new,) = [s for s in statements if s["Sid"] != shared["Sid"]]
    plan = world.plan()
    assert plan.code == 2, plan.output
    assert plan.report is not None
    facts = delta.expected(before, after)
    prod = f"{specs.PROD}/us-east-1"
    assert {f for f in facts[prod] if not f.startswith("access")} == {f"sid+ {new['Sid']}"}
    assert {f for f in facts[prod] if f.startswith("access")} == {
        f"access+ arn:aws:iam::{specs.STAGING}:root -> repository/base* "
        "(ecr:CreateRepository, ecr:ReplicateImage)"
    }
    assert delta.observed(plan.report) == facts
    world.record("grant-past-a-statement-boundary", plan, facts)
    run = world.apply()
    assert run.code == 0, run.output
    assert normalised(world.live(after)) == normalised(after)
    code, verdict = world.verify()
    assert code == 0, verdict
    assert world.plan("--all").code == 0
