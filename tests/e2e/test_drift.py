"""Drift made with boto3 behind Terraform's back: verify says so (exit 2), the plan is exactly the
repair, apply repairs it, verify says in sync; and adopting registries configured by hand."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.e2e import delta, specs
from tests.e2e.harness import World, normalised
from tests.e2e.test_changes import TWO_RULES, applied

TEMPLATE = TWO_RULES + (
    "creation_templates:\n"
    "  - accounts: [prod]\n"
    "    prefix: team-a\n"
    "    image_tag_mutability: IMMUTABLE\n"
)


def repaired(world: World, compiled: list[dict[str, object]], case: str) -> None:
    live = world.live(compiled)
    code, verdict = world.verify()
    assert code == 2, verdict
    drifted = {
        (r["account"], r["region"]) for r in verdict["registries"] if r["status"] != "in_sync"
    }
    assert len(drifted) == 1, verdict
    plan = world.plan()
    assert plan.code == 2, plan.why()
    assert plan.report is not None
    expected = delta.expected(live, compiled)
    assert delta.observed(plan.report) == expected
    world.record(case, plan, expected)
    run = world.apply()
    assert run.code == 0, run.why()
    assert normalised(world.live(compiled)) == normalised(compiled)
    assert world.verify()[0] == 0


def _drop_a_rule(world: World, compiled: list[dict[str, Any]]) -> None:
    build = next(r for r in compiled if r["account"] == "build")
    rules = build["replication_configuration"]["rules"]
    world.aws.put_replication(specs.BUILD, "us-east-1", rules[:1])


def _delete_the_policy(world: World, compiled: list[dict[str, Any]]) -> None:
    world.aws.client("ecr", specs.PROD, "us-east-1").delete_registry_policy()


def _edit_the_template(world: World, compiled: list[dict[str, Any]]) -> None:
    ecr = world.aws.client("ecr", specs.PROD, "us-east-1")
    ecr.update_repository_creation_template(prefix="team-a", imageTagMutability="MUTABLE")


# One drift after another on one applied organisation, each repaired before the next.
DRIFTS: list[tuple[str, Callable[[World, list[dict[str, Any]]], None]]] = [
    ("drift-dropped-rule", _drop_a_rule),
    ("drift-deleted-policy", _delete_the_policy),
    ("drift-edited-template", _edit_the_template),
]


def test_drifts_are_put_back_one_after_another(world: World) -> None:
    """Each drift of DRIFTS on one applied organisation, repaired before the next (one test: the
    tests of an xdist group are not guaranteed to run in order on one world)."""
    state = applied(world, TEMPLATE)
    for case, drift in DRIFTS:
        drift(world, state)
        repaired(world, state, case)


FOREIGN = {
    "Sid": "PullThroughCacheForAuditors",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{specs.PROD}:role/auditor"},
    "Action": ["ecr:CreateRepository"],
    "Resource": [f"arn:aws:ecr:us-east-1:{specs.PROD}:repository/audit/*"],
}


ADOPTED = specs.BASE + (
    f"registry_policies:\n  prod:\n    statements:\n      - {json.dumps(FOREIGN)}\n"
)


def test_adopt_takes_over_without_changes(world: World) -> None:
    """Registries configured outside Terraform (as tfgen would configure them, plus a statement
    of someone else's) → `tfgen import` → `render --adopt`: the plan only imports, the apply
    changes nothing in AWS, and the next plan is clean."""
    world.write_spec(ADOPTED)
    seeded = world.compiled()
    for registry in seeded:
        config = registry["replication_configuration"]
        if config:
            world.aws.put_replication(registry["account_id"], registry["region"], config["rules"])
        if registry["registry_policy"]:
            world.aws.put_policy(
                registry["account_id"], registry["region"], registry["registry_policy"]
            )
    world.spec.unlink()
    before = world.live(seeded)
    run = world.tfgen(
        "import",
        "--account",
        f"build={specs.BUILD}",
        "--account",
        f"prod={specs.PROD}",
        "--regions",
        "us-east-1",
        "--role-arn",
        "arn:aws:iam::{account_id}:role/tfgen",
        "--out",
        str(world.spec),
    )
    assert run.code == 0, run.why()
    assert "round trip: compiling the spec gives exactly the live state" in run.output
    world.render("--adopt")
    plan = world.plan()
    assert plan.code == 2, plan.why()  # imports change the state
    assert plan.report is not None
    counts = [
        (s["summary"]["add"], s["summary"]["change"], s["summary"]["destroy"])
        for s in plan.report["stacks"]
    ]
    assert counts == [(0, 0, 0)] * len(counts), plan.report
    # build's replication configuration, prod's registry policy
    assert plan.report["totals"]["import"] == 2, plan.report["totals"]
    run = world.apply()
    assert run.code == 0, run.why()
    assert world.live(seeded) == before  # nothing in AWS changed, the foreign statement kept
    world.render()  # without --adopt: the import blocks go
    assert (again := world.plan("--all")).code == 0, again.why()
