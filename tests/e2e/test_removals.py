"""Removals plan as clean destroys of exactly what left, apply, and only then let the provider (or
the stack, with --prune) go; the next plan is clean. Before, Terraform refused to plan a Region's
removal: "Provider configuration not present" for what the state still held."""

from __future__ import annotations

from tests.e2e import specs
from tests.e2e.harness import World
from tests.e2e.test_changes import applied, change

ALL = specs.spec(
    """\
    replication:
      - name: build-to-prod
        from: {account: build, regions: [us-east-1, eu-west-1]}
        to: [{account: prod, regions: [us-east-1, eu-west-1]}, {account: staging, regions: [us-east-1]}]
        filters: [team-a/]
    """
)
# What leaves, one after another on one applied organisation (each removal applied and pruned
# before the next; each step also holds alone, from ALL): (case, the spec after, the stack that loses something, the Region it loses
# or "" when the whole stack goes).
STEPS = [
    (
        "remove-source-region",
        ALL.replace(
            "from: {account: build, regions: [us-east-1, eu-west-1]}",
            "from: {account: build, regions: [us-east-1]}",
        ),
        "build/replication",
        "eu-west-1",
    ),
    (
        "remove-destination-region",
        specs.BASE.replace(
            "to: [{account: prod, regions: [us-east-1]}]",
            "to: [{account: prod, regions: [us-east-1]}, {account: staging, regions: [us-east-1]}]",
        ),
        "prod/registry-policy",
        "eu-west-1",
    ),
    ("remove-account", specs.BASE, "staging/registry-policy", ""),
]


def pruned(world: World, stack: str, gone: str) -> None:
    """`render --prune` drops what the applied plan destroyed; the next plan is clean."""
    run = world.render("--prune")
    assert "pruned " in run.output, run.output
    providers = world.out / "stacks" / stack / "providers.tf"
    if gone:
        assert f'"{gone.replace("-", "_")}"' not in providers.read_text()
    else:  # tfgen's files go; Terraform's working files (.terraform/) are not tfgen's to remove
        assert not providers.exists() and not (providers.parent / "main.tf").exists()
        assert f"left {providers.parent}: it holds files tfgen did not write" in run.output
    again = world.plan("--all")  # Terraform asked about every stack, not only what may differ
    assert again.code == 0, again.why()


def test_removals_one_after_another(world: World) -> None:
    """Each removal of STEPS on one applied organisation, from what the previous one left, each
    pruned and re-planned clean (one test: the tests of an xdist group are not guaranteed to run
    in order on one world)."""
    state = applied(world, ALL)
    for case, after, stack, region in STEPS:
        state = change(world, state, after, case)
        pruned(world, stack, region)
