"""tfgen import against a moto server: the round trip, hand-made setups, and user mistakes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from tests import moto_server
from tfgen.aws.import_run import round_trip, to_yaml
from tfgen.aws.importer import build_spec
from tfgen.aws.live import LiveRegistry
from tfgen.compile import compile_loaded
from tfgen.spec import load_spec, load_spec_text
from tfgen.state import DesiredState

moto_endpoint = moto_server.moto_endpoint
aws = moto_server.aws

BUILD, PROD, STAGING = "111111111111", "222222222222", "333333333333"
ROLE = "arn:aws:iam::{account_id}:role/tfgen"
ACCOUNTS = [f"--account=build={BUILD}", f"--account=prod={PROD}", f"--account=staging={STAGING}"]
REGIONS = "--regions=us-east-1,us-west-2,eu-west-1"
ORIGINAL = f"""
version: 1
defaults:
  role_arn: "{ROLE}"
accounts:
  build: {{id: "{BUILD}"}}
  prod: {{id: "{PROD}"}}
  staging: {{id: "{STAGING}"}}
replication:
  - from: {{account: build, regions: [us-east-1, us-west-2]}}
    to:
      - {{account: prod, regions: [us-east-1, eu-west-1]}}
      - {{account: staging, regions: [us-east-1]}}
    filters: [team-a/, base/]
  - from: {{account: build, regions: [us-east-1]}}
    to: [{{account: build, regions: [eu-west-1]}}, {{account: prod, regions: [us-west-2]}}]
  - from: {{account: staging, regions: [us-east-1]}}
    to: [{{account: prod, regions: [us-east-1]}}]
registry_policies:
  prod:
    statements:
      - Sid: CacheCreate
        Effect: Allow
        Principal: {{AWS: "arn:aws:iam::{STAGING}:root"}}
        Action: [ecr:CreateRepository]
        Resource: ["arn:aws:ecr:*:{PROD}:repository/cache/*"]
"""


def _import(tmp_path: Path, *args: str) -> tuple[Result, Path]:
    out = tmp_path / "imported" / "tfgen.yaml"
    out.parent.mkdir(exist_ok=True)
    result = CliRunner().invoke(
        moto_server.tfgen_cli(),
        ["import", *ACCOUNTS, REGIONS, f"--role-arn={ROLE}", f"--out={out}", *args],
    )
    return result, out


def _live(aws: moto_server.MotoAws, state: DesiredState) -> dict[str, Any]:
    """What DescribeRegistry and GetRegistryPolicy return for the registries of a state."""
    out = {}
    for r in state.registries:
        ecr = aws.client("ecr", r.account_id, r.region)
        rules = ecr.describe_registry()["replicationConfiguration"]["rules"]
        try:
            policy = json.loads(ecr.get_registry_policy()["policyText"])
        except ecr.exceptions.RegistryPolicyNotFoundException:
            policy = None
        out[r.label] = {"replication_configuration": {"rules": rules} if rules else None}
        out[r.label]["registry_policy"] = policy
    return out


def _compiled(state: DesiredState) -> dict[str, Any]:
    return {
        r.label: {
            "replication_configuration": r.replication_configuration(),
            "registry_policy": r.registry_policy(),
        }
        for r in state.registries
    }


def test_round_trip_reproduces_the_live_state_exactly(
    aws: moto_server.MotoAws, tmp_path: Path
) -> None:
    original = compile_loaded(load_spec_text(ORIGINAL))
    aws.apply(original)
    result, out = _import(tmp_path)
    assert result.exit_code == 0, result.output
    assert "round trip: compiling the spec gives exactly the live state" in result.output
    imported = compile_loaded(load_spec(out))
    assert imported.to_json() == original.to_json()
    assert _compiled(imported) == _live(aws, imported)  # byte for byte, order included

    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    # The rule both build registries have is one entry listing both Regions.
    assert data["replication"][0] == {
        "from": {"account": "build", "regions": ["us-east-1", "us-west-2"]},
        "to": [
            {"account": "prod", "regions": ["us-east-1", "eu-west-1"]},
            {"account": "staging", "regions": ["us-east-1"]},
        ],
        "filters": ["team-a/", "base/"],
    }
    assert len(data["replication"]) == 3
    # Only the statement that is not a replication grant is kept.
    assert data["registry_policies"]["prod"]["statements"] == [
        {
            "Sid": "CacheCreate",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{STAGING}:root"},
            "Action": ["ecr:CreateRepository"],
            "Resource": [f"arn:aws:ecr:*:{PROD}:repository/cache/*"],
        }
    ]
    assert data["defaults"] == {"role_arn": ROLE}
    assert "{account: prod, regions: [us-east-1, eu-west-1]}" in out.read_text(encoding="utf-8")


def test_registries_that_order_rules_differently_get_their_own_entries(
    aws: moto_server.MotoAws, tmp_path: Path
) -> None:
    rule_a = {
        "destinations": [{"region": "us-east-1", "registryId": PROD}],
        "repositoryFilters": [{"filter": "team-a/", "filterType": "PREFIX_MATCH"}],
    }
    rule_b = {"destinations": [{"region": "eu-west-1", "registryId": BUILD}]}
    rule_c = {"destinations": [{"region": "us-east-1", "registryId": BUILD}]}
    aws.put_replication(BUILD, "us-east-1", [rule_a, rule_b])
    aws.put_replication(BUILD, "us-west-2", [rule_b, rule_a, rule_c])
    result, out = _import(tmp_path)
    assert result.exit_code == 0, result.output
    # prod grants nothing yet: tfgen's grant adds it
    assert "us-east-1: no registry policy, yet 111111111111 replicate here" in result.output
    state = compile_loaded(load_spec(out))
    live = _live(aws, state)
    compiled = _compiled(state)
    for label in ("build/us-east-1", "build/us-west-2"):
        assert compiled[label] == live[label]


def _grants_only(aws: moto_server.MotoAws, tmp_path: Path) -> tuple[Result, dict[str, Any]]:
    result, out = _import(tmp_path)
    assert result.exit_code == 0, result.output
    return result, yaml.safe_load(out.read_text(encoding="utf-8"))


def _policy_of(state: DesiredState, label: str) -> dict[str, Any] | None:
    return next(r for r in state.registries if r.label == label).registry_policy()


def test_hand_made_grants_are_recognised(aws: moto_server.MotoAws, tmp_path: Path) -> None:
    """Issue 10 item 4: `Resource: "*"`, a Region wildcard, a prefix and a bare account id all
    grant replication already; import replaces them with tfgen's grant of the same permissions,
    notes no gap and adds no redundant statement."""
    to_prod = [{"region": region, "registryId": PROD} for region in ("us-east-1", "eu-west-1")]
    aws.put_replication(BUILD, "us-east-1", [{"destinations": to_prod}])
    aws.put_replication(
        STAGING,
        "us-east-1",
        [
            {
                "destinations": to_prod[:1],
                "repositoryFilters": [{"filter": "prod-", "filterType": "PREFIX_MATCH"}],
            }
        ],
    )
    partner = {  # a grant to an account that does not replicate here: not tfgen's, kept
        "Sid": "Partner",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
        "Action": ["ecr:ReplicateImage"],
        "Resource": [f"arn:aws:ecr:*:{PROD}:repository/*"],
    }
    live = {
        "us-east-1": [
            {
                "Sid": "Build",
                "Effect": "Allow",
                "Principal": {"AWS": BUILD},  # a bare account id
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": "*",
            },
            {
                "Sid": "Staging",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{STAGING}:root"},
                "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
                "Resource": f"arn:aws:ecr:us-east-1:{PROD}:repository/prod-*",
            },
            partner,
        ],
        "eu-west-1": [
            {
                "Sid": "Build",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{BUILD}:root"]},
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": [f"arn:aws:ecr:*:{PROD}:repository/*"],  # a Region wildcard
            },
            partner,
        ],
    }
    for region, statements in live.items():
        aws.put_policy(PROD, region, {"Version": "2012-10-17", "Statement": statements})
    result, data = _grants_only(aws, tmp_path)
    assert "no grant" not in result.output and "leave out" not in result.output
    assert "note: prod/us-east-1: replication grant(s) Build, Staging become tfgen's" in (
        result.output
    )
    assert data["accounts"]["prod"] == {"id": PROD}  # the defaults: scoped, CreateRepository
    assert data["registry_policies"]["prod"]["statements"] == [partner]
    state = compile_loaded(load_spec_text(yaml.safe_dump(data)))
    east = _policy_of(state, "prod/us-east-1")
    assert east is not None
    resources = {s["Sid"]: s["Resource"] for s in east["Statement"]}
    assert resources == {
        "TfgenReplication": [f"arn:aws:ecr:us-east-1:{PROD}:repository/*"],
        next(k for k in resources if k.startswith("TfgenReplication") and len(k) > 16): [
            f"arn:aws:ecr:us-east-1:{PROD}:repository/prod-*"
        ],
        "Partner": partner["Resource"],
    }
    # The round trip finds the same permissions, packed into tfgen's statements.
    assert "registry policy replication grants: changed: the same permissions" in result.output
    assert "grant to" not in result.output


def test_a_grant_tfgen_cannot_write_is_kept_as_it_is(
    aws: moto_server.MotoAws, tmp_path: Path
) -> None:
    """One source may create repositories and another may not: no grant setting says that, so
    the live statements stay, and tfgen's own grant (ReplicateImage only) adds nothing."""
    for source in (BUILD, STAGING):
        aws.put_replication(
            source, "us-east-1", [{"destinations": [{"region": "us-east-1", "registryId": PROD}]}]
        )
    resource = f"arn:aws:ecr:us-east-1:{PROD}:repository/*"
    statements = [
        {
            "Sid": "ReplicationAccessCrossAccount1",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{BUILD}:root"},
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
            "Resource": [resource],
        },
        {
            "Sid": "ReplicationAccessCrossAccount2",
            "Effect": "Allow",
            "Principal": {"AWS": STAGING},
            "Action": "ecr:ReplicateImage",
            "Resource": resource,
        },
    ]
    aws.put_policy(PROD, "us-east-1", {"Version": "2012-10-17", "Statement": statements})
    result, data = _grants_only(aws, tmp_path)
    assert "give more or other than tfgen's grant" in result.output
    assert "no grant" not in result.output and "also allows" not in result.output
    assert data["accounts"]["prod"] == {"id": PROD, "grants": {"create_repositories": False}}
    assert data["registry_policies"]["prod"]["statements"] == statements
    assert "other live statements allow as much" in result.output


def test_true_gaps_are_noted(aws: moto_server.MotoAws, tmp_path: Path) -> None:
    aws.put_replication(
        BUILD, "us-east-1", [{"destinations": [{"region": "us-east-1", "registryId": PROD}]}]
    )
    aws.put_replication(
        STAGING, "us-east-1", [{"destinations": [{"region": "us-east-1", "registryId": PROD}]}]
    )
    narrow = {  # build replicates every repository, but only prod-* is granted
        "Sid": "Narrow",
        "Effect": "Allow",
        "Principal": {"AWS": BUILD},
        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
        "Resource": f"arn:aws:ecr:us-east-1:{PROD}:repository/prod-*",
    }
    aws.put_policy(PROD, "us-east-1", {"Version": "2012-10-17", "Statement": [narrow]})
    result, data = _grants_only(aws, tmp_path)
    assert (
        f"prod/us-east-1: the live grants leave out repositories that replicate here, for {BUILD} "
        "(*) (their replication fails today); tfgen's grant adds them"
    ) in result.output
    assert (
        f"prod/us-east-1: no grant for {STAGING}, which replicate here (their replication fails "
        "today); tfgen's grant adds them"
    ) in result.output
    assert "registry_policies" not in data


def test_a_destination_outside_the_accounts_is_an_error(
    aws: moto_server.MotoAws, tmp_path: Path
) -> None:
    aws.put_replication(
        BUILD,
        "us-east-1",
        [{"destinations": [{"region": "us-east-1", "registryId": "999999999999"}]}],
    )
    result, out = _import(tmp_path)
    assert result.exit_code == 1
    assert (
        "build/us-east-1 replicates to account 999999999999 (us-east-1), which is not among the "
        "--account options; add --account NAME=999999999999" in result.output
    )
    assert not out.exists()


def test_different_policies_per_region_are_an_error(
    aws: moto_server.MotoAws, tmp_path: Path
) -> None:
    for region in ("us-east-1", "eu-west-1"):
        aws.put_policy(
            PROD,
            region,
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Cache",
                        "Effect": "Allow",
                        "Principal": {"AWS": STAGING},
                        "Action": "ecr:CreateRepository",
                        "Resource": f"arn:aws:ecr:{region}:{PROD}:repository/cache/*",
                    }
                ],
            },
        )
    result, _ = _import(tmp_path)
    assert result.exit_code == 1
    assert "the registry policies of 'prod' hold different statements in us-east-1, eu-west-1" in (
        result.output
    )


def test_options_are_checked(aws: moto_server.MotoAws, tmp_path: Path) -> None:
    result, _ = _import(tmp_path)
    assert result.exit_code == 0, result.output
    result, _ = _import(tmp_path)
    assert result.exit_code == 1
    assert "exists; pass --force to overwrite it" in result.output
    assert _import(tmp_path, "--force")[0].exit_code == 0
    runner = CliRunner()
    bad = runner.invoke(
        moto_server.tfgen_cli(), ["import", "--account=Prod=12", "--regions=us-east-1"]
    )
    assert bad.exit_code == 1
    assert "--account 'Prod=12': write NAME=ID" in bad.output
    bad = runner.invoke(
        moto_server.tfgen_cli(), ["import", f"--account=a={BUILD}", "--regions=us-east-1,moon-1"]
    )
    assert "--regions: 'moon-1' is not a Region where ECR is available" in bad.output
    bad = runner.invoke(
        moto_server.tfgen_cli(),
        ["import", f"--account=a={BUILD}", "--regions=us-east-1", "--role-arn=arn:{acct}"],
    )
    assert bad.exit_code == 1
    assert "the only placeholders are {account_id} and {account}" in bad.output
    stdout = runner.invoke(
        moto_server.tfgen_cli(),
        ["import", *ACCOUNTS, REGIONS, f"--role-arn={ROLE}", "--out=-"],
    )
    assert stdout.exit_code == 0
    assert stdout.output.startswith("# Written by `tfgen import`")


def test_creation_templates_round_trip_offline() -> None:
    # moto has no creation templates, so this feeds DescribeRepositoryCreationTemplates-shaped
    # data to the import and compares the compiled spec with it, as `tfgen import` does.
    lifecycle = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged"}}]}
    template = {
        "prefix": "ROOT",
        "description": "",
        "encryptionConfiguration": {"encryptionType": "AES256"},
        "resourceTags": [{"Key": "team", "Value": "platform"}],
        "imageTagMutability": "IMMUTABLE",
        "lifecyclePolicy": json.dumps(lifecycle),
        "appliedFor": ["REPLICATION"],
        "createdAt": datetime(2025, 1, 1, tzinfo=UTC),
    }
    other = {**template, "prefix": "team-a", "imageTagMutability": "MUTABLE"}
    live = [
        LiveRegistry("prod", PROD, "us-east-1", None, None, (template, other)),
        LiveRegistry("prod", PROD, "eu-west-1", None, None, (template,)),
        LiveRegistry("staging", STAGING, "us-east-1", None, None, (template,)),
        LiveRegistry("staging", STAGING, "eu-west-1", None, None, (template,)),
    ]
    accounts = {"prod": PROD, "staging": STAGING}
    imported = build_spec(accounts, live, role_arn=ROLE, partition="aws")
    assert imported.data["creation_templates"] == [
        {
            "accounts": ["prod", "staging"],
            "regions": ["us-east-1", "eu-west-1"],
            "prefix": "ROOT",
            "applied_for": ["REPLICATION"],
            "image_tag_mutability": "IMMUTABLE",
            "encryption": {"type": "AES256"},
            "lifecycle_policy": lifecycle,
            "resource_tags": {"team": "platform"},
        },
        {
            "accounts": ["prod"],
            "regions": ["us-east-1"],
            "prefix": "team-a",
            "applied_for": ["REPLICATION"],
            "image_tag_mutability": "MUTABLE",
            "encryption": {"type": "AES256"},
            "lifecycle_policy": lifecycle,
            "resource_tags": {"team": "platform"},
        },
    ]
    differences, _, errors = round_trip(
        to_yaml(imported, accounts, ["us-east-1", "eu-west-1"]), live
    )
    assert errors == ()
    assert differences == ()


def test_a_wide_live_grant_imports_as_the_wide_setting() -> None:
    """What an older tfgen wrote (repository/* for a source whose rule has a filter) is wider than
    the scoped default: import keeps it wide with `grants: {scope: wide}`, and says nothing."""
    rule = {
        "destinations": [{"region": "us-east-1", "registryId": PROD}],
        "repositoryFilters": [{"filter": "prod-", "filterType": "PREFIX_MATCH"}],
    }
    grant = {
        "Sid": "TfgenReplication",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{BUILD}:root"]},
        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
        "Resource": [f"arn:aws:ecr:us-east-1:{PROD}:repository/*"],
    }
    live = [
        LiveRegistry("build", BUILD, "us-east-1", {"rules": [rule]}, None, ()),
        LiveRegistry(
            "prod", PROD, "us-east-1", None, {"Version": "2012-10-17", "Statement": [grant]}, ()
        ),
    ]
    accounts = {"build": BUILD, "prod": PROD}
    imported = build_spec(accounts, live, role_arn=ROLE, partition="aws")
    assert imported.data["accounts"]["prod"] == {"id": PROD, "grants": {"scope": "wide"}}
    assert "registry_policies" not in imported.data
    assert imported.notes == ()
    differences, _, errors = round_trip(to_yaml(imported, accounts, ["us-east-1"]), live)
    assert errors == () and differences == ()
