"""`tfgen plan` runs Terraform only for the stacks that may differ, with the real provider: after an
apply nothing is planned and every stack is in sync, verified live; a spec change plans the stacks
it touches; drift made with boto3 plans its stack only, and that plan repairs it; `--all` plans
every stack and agrees."""

from __future__ import annotations

from typing import Any

from tests.e2e import delta, specs
from tests.e2e.harness import Run, World, normalised
from tests.e2e.test_changes import applied

SPEC = specs.spec(
    """\
    replication:
      - name: build-to-prod
        from: {account: build, regions: [us-east-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
      - name: staging-dr
        from: {account: staging, regions: [us-east-1]}
        to: [{account: staging, regions: [us-west-2]}]
    creation_templates:
      - accounts: [prod]
        prefix: team-a
        image_tag_mutability: IMMUTABLE
    """
)
STACKS = {"build/replication", "prod/registry-policy", "staging/replication"}


def _in_sync(run: Run) -> dict[str, dict[str, Any]]:
    return {k: s for k, s in run.stacks().items() if s["action"] == "verify"}


def _planned(run: Run) -> dict[str, dict[str, Any]]:
    return {k: s for k, s in run.stacks().items() if s["action"] == "plan"}


def test_an_unchanged_organisation_plans_no_stack(world: World) -> None:
    compiled = applied(world, SPEC)
    plan = world.plan()
    assert plan.code == 0, plan.output
    assert plan.report is not None
    assert _planned(plan) == {} and set(_in_sync(plan)) == STACKS
    assert plan.report["totals"]["in_sync"] == 3
    assert "3 of 3 stacks in sync, verified live" in plan.output
    for stack in _in_sync(plan).values():
        assert stack["status"] == "ok" and stack["commands"] == []
    # The evidence: every registry each stack manages, read live, holds what it makes true.
    evidence = {k: s["in_sync"]["registries"] for k, s in _in_sync(plan).items()}
    assert evidence == {
        "build/replication": [
            {
                "account": "build",
                "registry": f"{specs.BUILD}/us-east-1",
                "settings": ["replication"],
                "notes": [],
            }
        ],
        "prod/registry-policy": [
            {
                "account": "prod",
                "registry": f"{specs.PROD}/us-east-1",
                "settings": ["creation templates", "registry policy"],
                "notes": [],
            }
        ],
        "staging/replication": [
            {
                "account": "staging",
                "registry": f"{specs.STAGING}/us-east-1",
                "settings": ["replication"],
                "notes": [],
            }
        ],
    }
    # Nothing to apply, and apply says so.
    run = world.apply()
    assert run.code == 0, run.output
    assert "nothing to apply" in run.output
    # --all asks Terraform about every stack: the same verdict.
    full = world.plan("--all")
    assert full.code == 0, full.output
    assert set(_planned(full)) == STACKS and _in_sync(full) == {}
    assert normalised(world.live(compiled)) == normalised(compiled)


def test_a_spec_change_to_one_account_plans_only_its_stacks(world: World) -> None:
    applied(world, SPEC)
    world.write_spec(
        SPEC.replace(
            "to: [{account: staging, regions: [us-west-2]}]",
            "to: [{account: staging, regions: [us-west-2, eu-west-1]}]",
        )
    )
    world.render()
    new = world.compiled()
    plan = world.plan()
    assert plan.code == 2, plan.output
    assert set(_planned(plan)) == {"staging/replication"}
    assert _planned(plan)["staging/replication"]["planned_because"] == (
        "files changed since the last apply"
    )
    assert set(_in_sync(plan)) == {"build/replication", "prod/registry-policy"}
    run = world.apply()
    assert run.code == 0, run.output
    assert normalised(world.live(new)) == normalised(new)
    again = world.plan()
    assert again.code == 0, again.output
    assert set(_in_sync(again)) == STACKS


def test_drift_in_one_registry_plans_only_its_stack_and_repairs_it(world: World) -> None:
    compiled = applied(world, SPEC)
    live = world.live(compiled)
    world.aws.client("ecr", specs.PROD, "us-east-1").delete_registry_policy()
    drifted = world.live(compiled)
    plan = world.plan()
    assert plan.code == 2, plan.output
    assert plan.report is not None
    assert set(_planned(plan)) == {"prod/registry-policy"}
    why = _planned(plan)["prod/registry-policy"]["planned_because"]
    assert why == (
        "live differs: prod/us-east-1: registry policy document: missing: the registry has no "
        "registry policy"
    )
    assert set(_in_sync(plan)) == {"build/replication", "staging/replication"}
    # The plan is exactly the repair.
    assert delta.observed(plan.report) == delta.expected(drifted, compiled)
    # --all asks Terraform about every stack, and it finds the same one stack to change.
    full = world.plan("--all")
    assert full.code == 2, full.output
    assert {k for k, s in full.stacks().items() if s["changes"]} == {"prod/registry-policy"}
    assert set(_planned(full)) == STACKS
    run = world.apply()
    assert run.code == 0, run.output
    assert normalised(world.live(compiled)) == normalised(live)
    assert world.verify()[0] == 0
    again = world.plan()
    assert again.code == 0, again.output
    assert set(_in_sync(again)) == STACKS
