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
        assert world.plan().code == 0


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
