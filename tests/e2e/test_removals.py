"""Removals plan as clean destroys of exactly what left, apply, and only then let the provider (or
the stack, with --prune) go; the next plan is clean. Before, Terraform refused to plan a Region's
removal: "Provider configuration not present" for what the state still held."""

from __future__ import annotations

from tests.e2e import specs
from tests.e2e.harness import World
from tests.e2e.test_changes import change

TWO_SOURCE_REGIONS = specs.spec(
    """\
    replication:
      - name: build-to-prod
        from: {account: build, regions: [us-east-1, eu-west-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
    """
)
TWO_DESTINATION_REGIONS = specs.BASE.replace(
    "to: [{account: prod, regions: [us-east-1]}]",
    "to: [{account: prod, regions: [us-east-1, eu-west-1]}]",
)
TWO_ACCOUNTS = specs.BASE.replace(
    "to: [{account: prod, regions: [us-east-1]}]",
    "to: [{account: prod, regions: [us-east-1]}, {account: staging, regions: [us-east-1]}]",
)


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
    assert again.code == 0, again.output


def test_a_regions_last_rule_leaves(world: World) -> None:
    change(world, TWO_SOURCE_REGIONS, specs.BASE, case="remove-source-region")
    pruned(world, "build/replication", "eu-west-1")


def test_a_regions_last_grant_leaves(world: World) -> None:
    change(world, TWO_DESTINATION_REGIONS, specs.BASE, case="remove-destination-region")
    pruned(world, "prod/registry-policy", "eu-west-1")


def test_an_account_leaves(world: World) -> None:
    change(world, TWO_ACCOUNTS, specs.BASE, case="remove-account")
    pruned(world, "staging/registry-policy", "")
