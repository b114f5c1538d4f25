"""Which stacks `tfgen plan` runs Terraform for (tfgen.triage), against a moto server: a rendered
tree, its registries set up as its stacks make them, and the applied record; then one thing at a
time differs (files, a record, one live registry, a role, the credentials)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.ecr.responses import ECRResponse

from tests import moto_ext, moto_server
from tests.test_aws_verify import PROD, STAGING
from tests.test_aws_verify import SPEC as VERIFY_SPEC
from tfgen import manifest, triage
from tfgen.aws.parallel import Reads
from tfgen.compile import compile_loaded
from tfgen.render import render_tree
from tfgen.run import hashes
from tfgen.spec import load_spec_text
from tfgen.state import DesiredState

moto_endpoint = moto_server.moto_endpoint
aws = moto_server.aws

# tests/test_aws_verify.py's organisation, where prod also replicates within itself (so its
# us-east-1 registry is managed by both its stacks) and has a creation template.
SPEC = VERIFY_SPEC.replace(
    "registry_policies:",
    "  - from: {account: prod, regions: [us-east-1]}\n"
    "    to: [{account: prod, regions: [us-west-2]}]\n"
    "registry_policies:",
) + (
    "creation_templates:\n"
    "  - {accounts: [prod], regions: [us-east-1], prefix: team-a, image_tag_mutability: IMMUTABLE}\n"
)
STACKS = [
    "build/replication",
    "prod/registry-policy",
    "prod/replication",
    "staging/registry-policy",
]


def _state(text: str = SPEC) -> DesiredState:
    return compile_loaded(load_spec_text(text, "tfgen.yaml"))


@pytest.fixture
def tree(aws: moto_server.MotoAws, tmp_path: Path) -> manifest.Manifest:
    """The rendered tree of SPEC, applied: its registries set up, its applied record written."""
    state = _state()
    render_tree(state, tmp_path / "out")
    aws.apply(state)
    return manifest.load(tmp_path / "out")


def _applied(tree: manifest.Manifest) -> dict[str, str]:
    return {s.id: hashes.stack_hash(tree, s) for s in tree.stacks}


def _decide(tree: manifest.Manifest, applied: dict[str, str]) -> dict[str, triage.Decision]:
    found = triage.decide(tree, tree.ordered(), applied, Reads(jobs=4))
    return {d.stack.id: d for d in found.decisions}


def _planned(decisions: dict[str, triage.Decision]) -> dict[str, str]:
    return {k: d.why for k, d in decisions.items() if d.planned}


def test_an_applied_unchanged_tree_plans_nothing_and_says_why(tree: manifest.Manifest) -> None:
    applied = _applied(tree)
    found = triage.decide(tree, tree.ordered(), applied, Reads(jobs=4))
    assert sorted(s.id for s in tree.stacks) == STACKS
    assert found.planned == ()
    # build, prod/us-east-1 (read once for both its stacks), prod/eu-west-1, staging
    assert found.registries_read == 4
    evidence = {d.stack.id: d.in_sync for d in found.decisions}
    prod = evidence["prod/registry-policy"]
    assert prod is not None and prod.content_hash == applied["prod/registry-policy"]
    assert [(e.registry, e.settings) for e in prod.registries] == [
        (f"{PROD}/eu-west-1", ("creation templates", "registry policy")),
        (f"{PROD}/us-east-1", ("creation templates", "registry policy")),
    ]
    replication = evidence["prod/replication"]
    assert replication is not None
    assert [(e.registry, e.settings) for e in replication.registries] == [
        (f"{PROD}/us-east-1", ("replication",))
    ]


def test_files_and_records_decide_before_anything_is_read(
    tree: manifest.Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied = _applied(tree)
    del applied["staging/registry-policy"]
    applied["build/replication"] = "0" * 64
    assert _planned(_decide(tree, applied)) == {
        "staging/registry-policy": triage.NEVER_APPLIED,
        "build/replication": triage.FILES_CHANGED,
    }
    # Nothing to verify: no AWS call at all (the endpoint is gone).
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    nothing = triage.decide(tree, tree.ordered(), {}, Reads(jobs=4))
    assert [d.why for d in nothing.decisions] == [triage.NEVER_APPLIED] * 4
    assert nothing.registries_read == 0


def test_a_spec_change_to_one_account_plans_only_its_stacks(
    tree: manifest.Manifest, aws: moto_server.MotoAws
) -> None:
    applied = _applied(tree)
    changed = SPEC.replace("filters: [team-a/, base/]", "filters: [team-a/, base/, tools/]")
    render_tree(_state(changed), tree.root)
    after = manifest.load(tree.root)
    planned = _planned(_decide(after, applied))
    # build sends more; prod and staging grant more: every stack the rule touches, not prod's own
    # replication.
    assert planned == {
        "build/replication": triage.FILES_CHANGED,
        "prod/registry-policy": triage.FILES_CHANGED,
        "staging/registry-policy": triage.FILES_CHANGED,
    }


def test_drift_in_one_registry_plans_only_its_stack(
    tree: manifest.Manifest, aws: moto_server.MotoAws
) -> None:
    applied = _applied(tree)
    aws.client("ecr", PROD, "eu-west-1").delete_registry_policy()
    planned = _planned(_decide(tree, applied))
    assert list(planned) == ["prod/registry-policy"]
    assert planned["prod/registry-policy"].startswith(
        f"{triage.LIVE_DIFFERS}: prod/eu-west-1: registry policy document: missing"
    )


def test_drift_in_a_replication_configuration_plans_only_its_stack(
    tree: manifest.Manifest, aws: moto_server.MotoAws
) -> None:
    applied = _applied(tree)
    aws.put_replication(
        PROD, "us-east-1", [{"destinations": [{"region": "us-west-1", "registryId": PROD}]}]
    )
    planned = _planned(_decide(tree, applied))
    assert list(planned) == ["prod/replication"]  # prod/registry-policy reads the same registry
    assert planned["prod/replication"].startswith(f"{triage.LIVE_DIFFERS}: prod/us-east-1: ")


def test_an_edited_template_plans_its_stack(
    tree: manifest.Manifest, aws: moto_server.MotoAws
) -> None:
    applied = _applied(tree)
    ecr = aws.client("ecr", PROD, "us-east-1")
    ecr.update_repository_creation_template(prefix="team-a", imageTagMutability="MUTABLE")
    planned = _planned(_decide(tree, applied))
    assert list(planned) == ["prod/registry-policy"]
    assert "creation template 'team-a': changed" in planned["prod/registry-policy"]


def test_a_registry_that_cannot_be_read_is_planned(
    tree: manifest.Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moto_ext, "DENIED_ROLES", {f"arn:aws:iam::{STAGING}:role/tfgen"})
    planned = _planned(_decide(tree, _applied(tree)))
    assert list(planned) == ["staging/registry-policy"]
    assert planned["staging/registry-policy"].startswith(
        f"{triage.NOT_VERIFIED}: staging/us-east-1: "
    )
    assert "access denied" in planned["staging/registry-policy"]


def test_without_credentials_every_stack_is_planned(
    tree: manifest.Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied = _applied(tree)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    planned = _planned(_decide(tree, applied))
    assert list(planned) == sorted(STACKS, key=lambda s: ("registry-policy" not in s, s))
    assert all(
        why.startswith(f"{triage.NOT_VERIFIED}: no AWS credentials") for why in planned.values()
    )


def test_a_tree_without_desired_state_is_planned(tree: manifest.Manifest) -> None:
    """A tree rendered by a tfgen without desired.json: its stacks cannot be verified."""
    files = dict(tree.files)
    for st in tree.stacks:
        del files[f"{st.path}/desired.json"]
        (tree.root / st.path / "desired.json").unlink()
    old = manifest.Manifest(tree.root, files, tree.stacks)
    planned = _planned(_decide(old, _applied(old)))
    assert list(planned) == sorted(STACKS, key=lambda s: ("registry-policy" not in s, s))
    assert all("not in the manifest" in why and "re-render" in why for why in planned.values())


def test_stacks_whose_files_disagree_about_their_account_are_planned(
    tree: manifest.Manifest,
) -> None:
    """Consistent files (manifest hashes, applied record) that disagree about an account: no
    role is taken from either."""
    rel = "stacks/prod/replication/desired.json"
    path = tree.root / rel
    data = json.loads(path.read_text())
    data["account"]["role_arn"] = f"arn:aws:iam::{PROD}:role/other"
    path.write_text(json.dumps(data))
    files = {**tree.files, rel: hashes.file_sha256(manifest.TreeGuard(tree.root), rel)}
    edited = manifest.Manifest(tree.root, files, tree.stacks)
    planned = _planned(_decide(edited, _applied(edited)))
    assert sorted(planned) == ["prod/registry-policy", "prod/replication"]
    assert all("the stacks of prod disagree" in why for why in planned.values())


def test_a_retired_stack_is_always_planned(tree: manifest.Manifest) -> None:
    applied = _applied(tree)
    render_tree(_state(SPEC.replace("- {account: staging, regions: [us-east-1]}", "")), tree.root)
    after = manifest.load(tree.root)
    applied["staging/registry-policy"] = hashes.stack_hash(
        after, next(s for s in after.stacks if s.retired)
    )
    planned = _planned(_decide(after, applied))
    assert planned["staging/registry-policy"] == triage.RETIRED


def test_templates_that_cannot_be_read_are_no_proof(
    tree: manifest.Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify judges the rest of a registry whose templates the endpoint does not serve; the
    stack that manages those templates is planned."""
    monkeypatch.delattr(ECRResponse, "describe_repository_creation_templates")
    planned = _planned(_decide(tree, _applied(tree)))
    assert planned == {
        "prod/registry-policy": f"{triage.NOT_VERIFIED}: prod/us-east-1: creation templates "
        "not checked"
    }
