"""A rule must never exist before its destination's grant: when a destination's registry-policy
stack fails for real (its role cannot be assumed), the replication stacks that need its grant
are not applied, tfgen exits 1, and the report says why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import moto_ext
from tests.e2e import specs
from tests.e2e.harness import World

PROD_ROLE = f"arn:aws:iam::{specs.PROD}:role/tfgen"
SPEC = specs.spec(
    """\
    replication:
      - name: build-out
        from: {account: build, regions: [us-east-1]}
        to:
          - {account: prod, regions: [us-east-1]}
          - {account: staging, regions: [us-east-1]}
        filters: [team-a/]
    """
)


@pytest.fixture
def denied() -> Iterator[set[str]]:
    yield moto_ext.DENIED_ROLES
    moto_ext.DENIED_ROLES.clear()


def _rules(world: World) -> object:
    ecr = world.aws.client("ecr", specs.BUILD, "us-east-1")
    return ecr.describe_registry().get("replicationConfiguration", {}).get("rules")


def test_a_grant_that_fails_at_apply_holds_back_the_rule(world: World, denied: set[str]) -> None:
    world.write_spec(SPEC)
    world.render()
    assert (planned := world.plan()).code == 2, planned.why()
    denied.add(PROD_ROLE)  # the trust policy changes between the reviewed plan and the apply
    run = world.apply()
    assert run.code == 1, run.why()
    stacks = run.stacks()
    assert stacks["prod/registry-policy"]["status"] == "failed"
    assert "Cannot assume IAM Role" in stacks["prod/registry-policy"]["reason"]
    assert stacks["staging/registry-policy"]["status"] == "ok"
    assert stacks["build/replication"]["status"] == "blocked"
    assert "prod/registry-policy" in stacks["build/replication"]["reason"]
    assert not _rules(world)  # no rule without its grant


def test_a_grant_that_fails_to_plan_holds_back_the_rule(world: World, denied: set[str]) -> None:
    world.write_spec(SPEC)
    world.render()
    denied.add(PROD_ROLE)
    plan = world.plan()
    assert plan.code == 1, plan.why()
    assert plan.stacks()["prod/registry-policy"]["status"] == "failed"
    run = world.apply()  # applies what was planned, never a rule without its grant
    assert run.code == 1, run.why()
    stacks = run.stacks()
    assert stacks["build/replication"]["status"] == "blocked"
    assert "prod/registry-policy" in stacks["build/replication"]["reason"]
    assert stacks["staging/registry-policy"]["status"] == "ok"
    assert not _rules(world)
