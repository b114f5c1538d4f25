"""`tfgen plan` runs Terraform only for the stacks that may differ, with the real provider, on one
applied organisation: unchanged, nothing is planned and every stack is in sync, verified live, with
its evidence; drift made with boto3 plans its stack only, `--all` plans every stack and finds the
same one change, and that plan repairs it; a spec change plans only the stacks it touches."""

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


def _evidence(account: str, account_id: str, *settings: str) -> list[dict[str, Any]]:
    registry = f"{account_id}/us-east-1"
    return [{"account": account, "registry": registry, "settings": list(settings), "notes": []}]


def test_plan_runs_terraform_only_where_the_organisation_may_differ(world: World) -> None:
    compiled = applied(world, SPEC)
    live = world.live(compiled)

    # Unchanged: no stack is planned; each is in sync, with what was read as the evidence.
    plan = world.plan()
    assert plan.code == 0, plan.why()
    assert plan.report is not None
    assert _planned(plan) == {} and set(_in_sync(plan)) == STACKS
    assert plan.report["totals"]["in_sync"] == 3
    assert "3 of 3 stacks in sync, verified live" in plan.output
    for stack in _in_sync(plan).values():
        assert stack["status"] == "ok" and stack["commands"] == [] and not stack["changes"]
    evidence = {k: s["in_sync"]["registries"] for k, s in _in_sync(plan).items()}
    assert evidence == {
        "build/replication": _evidence("build", specs.BUILD, "replication"),
        "prod/registry-policy": _evidence(
            "prod", specs.PROD, "creation templates", "registry policy"
        ),
        "staging/replication": _evidence("staging", specs.STAGING, "replication"),
    }
    run = world.apply()
    assert run.code == 0, run.why()
    assert "nothing to apply" in run.output

    # Drift in one registry: only its stack is planned, and its plan is exactly the repair.
    world.aws.client("ecr", specs.PROD, "us-east-1").delete_registry_policy()
    drifted = world.live(compiled)
    plan = world.plan()
    assert plan.code == 2, plan.why()
    assert plan.report is not None
    assert set(_planned(plan)) == {"prod/registry-policy"}
    assert _planned(plan)["prod/registry-policy"]["planned_because"] == (
        "live differs: prod/us-east-1: registry policy document: missing: the registry has no "
        "registry policy"
    )
    assert set(_in_sync(plan)) == {"build/replication", "staging/replication"}
    assert delta.observed(plan.report) == delta.expected(drifted, compiled)
    # --all asks Terraform about every stack: the same verdict, the same one change.
    full = world.plan("--all")
    assert full.code == 2, full.why()
    assert full.report is not None
    assert set(_planned(full)) == STACKS and _in_sync(full) == {}
    assert {k for k, s in full.stacks().items() if s["changes"]} == {"prod/registry-policy"}
    assert all(s["planned_because"] is None for s in full.stacks().values())
    assert delta.observed(full.report) == delta.expected(drifted, compiled)
    run = world.apply()
    assert run.code == 0, run.why()
    assert normalised(world.live(compiled)) == normalised(live)
    assert world.verify()[0] == 0

    # A spec change to one account: only the stack whose files changed is planned.
    world.write_spec(
        SPEC.replace(
            "to: [{account: staging, regions: [us-west-2]}]",
            "to: [{account: staging, regions: [us-west-2, eu-west-1]}]",
        )
    )
    world.render()
    new = world.compiled()
    plan = world.plan()
    assert plan.code == 2, plan.why()
    assert set(_planned(plan)) == {"staging/replication"}
    assert _planned(plan)["staging/replication"]["planned_because"] == (
        "files changed since the last apply"
    )
    assert set(_in_sync(plan)) == {"build/replication", "prod/registry-policy"}
    run = world.apply()
    assert run.code == 0, run.why()
    assert normalised(world.live(new)) == normalised(new)
    again = world.plan()
    assert again.code == 0, again.why()
    assert set(_in_sync(again)) == STACKS
