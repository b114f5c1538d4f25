"""What left the spec is retired, not deleted, and `--prune` drops it only once its removal is
applied: Terraform needs a resource's provider configuration to destroy it (issue 8)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.rendering import fmt_check, load_errors
from tfgen import manifest
from tfgen.cli import main_group
from tfgen.run import hashes

HEAD = """version: 1
defaults:
  role_arn: "arn:aws:iam::{account_id}:role/tfgen"
accounts:
  a: {id: "111111111111"}
  b: {id: "222222222222"}
  c: {id: "333333333333"}
replication:
"""
TO_B = """  - from: {account: a, regions: [us-east-1, eu-west-1]}
    to: [{account: b, regions: [us-east-1]}]
"""
TO_C = """  - from: {account: a, regions: [us-east-1]}
    to: [{account: c, regions: [us-east-1]}]
"""
EU_GONE = TO_B.replace("us-east-1, eu-west-1", "us-east-1")


def render(spec: Path, out: Path, text: str, *extra: str) -> str:
    spec.write_text(HEAD + text)
    result = CliRunner().invoke(main_group, ["render", str(spec), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.stderr


def stacks(out: Path) -> dict[str, manifest.ManifestStack]:
    tree = manifest.load(out)
    return {s.id: s for s in tree.stacks}


def applied(out: Path, stack_id: str) -> None:
    """What `tfgen apply` records after a successful apply of the stack as it is now."""
    tree = manifest.load(out)
    stack = next(s for s in tree.stacks if s.id == stack_id)
    path = out / ".tfgen" / "applied.json"
    record = hashes.read_applied(path)
    record[stack_id] = hashes.stack_hash(tree, stack)
    hashes.write_applied(path, record)


def test_a_stack_that_leaves_the_spec_is_rendered_to_destroy(tmp_path: Path) -> None:
    spec, out = tmp_path / "tfgen.yaml", tmp_path / "out"
    render(spec, out, TO_B + TO_C)
    c = out / "stacks" / "c" / "registry-policy"
    versions, providers = (c / "versions.tf").read_bytes(), (c / "providers.tf").read_text()
    err = render(spec, out, TO_B)
    assert "stack c/registry-policy left the spec: its plan destroys what it managed" in err
    assert 'module "' not in (c / "main.tf").read_text()  # nothing to manage: the plan destroys
    assert (c / "versions.tf").read_bytes() == versions  # the same backend and constraint
    block = providers[providers.index('provider "aws"') :]
    retired = (c / "providers.tf").read_text()
    assert block in retired and "us-east-1 left the spec" in retired  # the same provider
    entry = stacks(out)["c/registry-policy"]
    assert entry.retired and entry.retired_regions == ("us-east-1",) and entry.modules == ()
    assert "c/registry-policy" not in stacks(out)["a/replication"].depends_on
    assert load_errors(c) == [] and fmt_check(out) == ""
    # A stack that comes back is an ordinary stack again.
    render(spec, out, TO_B + TO_C)
    assert not stacks(out)["c/registry-policy"].retired
    assert 'module "' in (c / "main.tf").read_text()


def test_a_region_that_leaves_a_stack_keeps_its_provider(tmp_path: Path) -> None:
    spec, out = tmp_path / "tfgen.yaml", tmp_path / "out"
    render(spec, out, TO_B)
    err = render(spec, out, EU_GONE)
    assert "stack a/replication: eu-west-1 left the spec" in err
    stack = out / "stacks" / "a" / "replication"
    providers = (stack / "providers.tf").read_text()
    assert 'alias  = "eu_west_1"' in providers and "eu-west-1 left the spec" in providers
    assert "replication_eu_west_1" not in (stack / "main.tf").read_text()
    entry = stacks(out)["a/replication"]
    assert entry.regions == ("eu-west-1", "us-east-1")
    assert entry.retired_regions == ("eu-west-1",)
    assert load_errors(stack) == [] and fmt_check(out) == ""


def test_prune_waits_for_the_apply_of_the_removal(tmp_path: Path) -> None:
    spec, out = tmp_path / "tfgen.yaml", tmp_path / "out"
    render(spec, out, TO_B + TO_C)
    applied(out, "c/registry-policy")  # applied as it was: the grant exists
    # Gone now: retired first, even with --prune (its provider must outlive the destroy).
    err = render(spec, out, TO_B, "--prune")
    assert stacks(out)["c/registry-policy"].retired
    err = render(spec, out, TO_B, "--prune")
    assert "--prune kept c/registry-policy: tfgen has no record" in err
    assert (out / "stacks" / "c" / "registry-policy" / "main.tf").exists()
    applied(out, "c/registry-policy")  # the destroying plan was applied
    err = render(spec, out, TO_B, "--prune")
    assert "pruned c/registry-policy" in err
    assert "c/registry-policy" not in stacks(out)
    assert not (out / "stacks" / "c").exists()


def test_prune_drops_a_retired_region_once_applied(tmp_path: Path) -> None:
    spec, out = tmp_path / "tfgen.yaml", tmp_path / "out"
    render(spec, out, TO_B)
    render(spec, out, EU_GONE)
    render(spec, out, EU_GONE, "--prune")
    assert stacks(out)["a/replication"].retired_regions == ("eu-west-1",)
    applied(out, "a/replication")
    render(spec, out, EU_GONE, "--prune")
    entry = stacks(out)["a/replication"]
    assert entry.regions == ("us-east-1",) and entry.retired_regions == ()
    assert "eu_west_1" not in (out / "stacks" / "a" / "replication" / "providers.tf").read_text()


def _state(resources: list[dict[str, object]]) -> str:
    return json.dumps({"version": 4, "resources": resources})


def test_prune_refuses_while_local_state_holds_resources(tmp_path: Path) -> None:
    spec, out = tmp_path / "tfgen.yaml", tmp_path / "out"
    render(spec, out, TO_B)
    render(spec, out, EU_GONE)
    state = out / "stacks" / "a" / "replication" / "terraform.tfstate"
    eu = 'provider["registry.terraform.io/hashicorp/aws"].eu_west_1'
    us = 'provider["registry.terraform.io/hashicorp/aws"].us_east_1'
    resource = {
        "module": "module.replication_eu_west_1",
        "type": "aws_ecr_replication_configuration",
        "name": "this",
        "provider": eu,
        "instances": [{"attributes": {}}],
    }
    state.write_text(_state([resource]))
    applied(out, "a/replication")  # a record does not outweigh the state itself
    err = render(spec, out, EU_GONE, "--prune")
    assert "terraform.tfstate still holds module.replication_eu_west_1." in err
    assert stacks(out)["a/replication"].retired_regions == ("eu-west-1",)
    state.write_text(
        _state([{**resource, "module": "module.replication_us_east_1", "provider": us}])
    )
    render(spec, out, EU_GONE, "--prune")  # only the other Region's resources are left
    assert stacks(out)["a/replication"].retired_regions == ()
