"""Three published setups (issue 10), each written as a spec, compiled to the JSON AWS publishes
for it, and imported back from the moto server without a false note:

- the ECR User Guide's registry permissions example "replicate all repositories with prefix
  prod-" (`repository/prod-*`, docs.aws.amazon.com/AmazonECR/latest/userguide/
  registry-permissions-examples.html; ecr-facts.md §2.2);
- a production destination whose repositories are created elsewhere: the same example without
  ecr:CreateRepository, which the same page says replication works without ("you need to create
  repositories with the same name within your account");
- a creation template whose tags are immutable except `dev-*` and `test-*` (the AWS CDK's
  TagMutability example), in CreateRepositoryCreationTemplate's request shape.

tfgen writes the policy with its own Sid and a principal list; the tests say so and compare the
rest exactly, and check with the tests' own IAM evaluator that both documents allow the same.
"""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from textwrap import dedent
from typing import Any

import yaml
from click.testing import CliRunner, Result

from tests import iam, moto_server
from tfgen.compile import compile_loaded
from tfgen.spec import load_spec, load_spec_text
from tfgen.state import DesiredState

moto_endpoint = moto_server.moto_endpoint
aws = moto_server.aws

SOURCE, DESTINATION = "111122223333", "444455556666"  # the User Guide's example accounts
HEAD = dedent(
    f"""\
    version: 1
    defaults:
      role_arn: "arn:aws:iam::{{account_id}}:role/tfgen"
    accounts:
      source: {{id: "{SOURCE}"}}
      destination: {{id: "{DESTINATION}"{{grants}}}}
    replication:
      - from: {{account: source, regions: [us-east-1]}}
        to: [{{account: destination, regions: [us-west-2]}}]
        filters: [prod-]
    """
)
# The User Guide's policy, its placeholders filled in with the accounts above.
PROD_PREFIX_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReplicationAccessCrossAccount",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{SOURCE}:root"},
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
            "Resource": [f"arn:aws:ecr:us-west-2:{DESTINATION}:repository/prod-*"],
        }
    ],
}
REPLICATE_ONLY_POLICY = copy.deepcopy(PROD_PREFIX_POLICY)
REPLICATE_ONLY_POLICY["Statement"][0]["Action"] = ["ecr:ReplicateImage"]

EXCLUSIONS_SPEC = dedent(
    """\
    creation_templates:
      - accounts: [destination]
        prefix: ROOT
        image_tag_mutability: IMMUTABLE_WITH_EXCLUSION
        image_tag_mutability_exclusion_filters: [dev-*, test-*]
    """
)
EXCLUSIONS_TEMPLATE = {
    "prefix": "ROOT",
    "appliedFor": ["REPLICATION"],
    "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
    "imageTagMutabilityExclusionFilters": [
        {"filter": "dev-*", "filterType": "WILDCARD"},
        {"filter": "test-*", "filterType": "WILDCARD"},
    ],
    "encryptionConfiguration": {"encryptionType": "AES256"},
}
SETUPS = {
    "prod-prefix": HEAD.replace("{grants}", ""),
    "replicate-only": HEAD.replace("{grants}", ", grants: {create_repositories: false}"),
    "exclusion-template": HEAD.replace("{grants}", "") + EXCLUSIONS_SPEC,
}
NAMES = ("prod-api", "prod-", "prod", "production", "dev-api", "team-a/prod-x")


def _state(text: str) -> DesiredState:
    return compile_loaded(load_spec_text(text))


def _destination(state: DesiredState) -> Any:
    (registry,) = [r for r in state.registries if r.account == "destination"]
    return registry


def _published_form(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    """The compiled policy as AWS publishes it: its Sid, and a single principal as a string."""
    out = copy.deepcopy(policy)
    for statement in out["Statement"]:
        statement["Sid"] = sid
        (principal,) = statement["Principal"]["AWS"]
        statement["Principal"]["AWS"] = principal
    return out


def _same_permissions(a: dict[str, Any], b: dict[str, Any]) -> None:
    arn = f"arn:aws:ecr:us-west-2:{DESTINATION}:repository/"
    for account in (SOURCE, DESTINATION, "999999999999"):
        for action in ("ecr:ReplicateImage", "ecr:CreateRepository", "ecr:BatchGetImage"):
            for name in NAMES:
                assert iam.allows(a, account, "aws", action, arn + name) == iam.allows(
                    b, account, "aws", action, arn + name
                ), (account, action, name)


def test_the_user_guide_prod_prefix_example_compiles_to_its_json() -> None:
    policy = _destination(_state(SETUPS["prod-prefix"])).registry_policy()
    (statement,) = policy["Statement"]
    assert statement["Sid"].startswith("TfgenReplication")
    assert _published_form(policy, "ReplicationAccessCrossAccount") == PROD_PREFIX_POLICY
    _same_permissions(policy, PROD_PREFIX_POLICY)
    arn = f"arn:aws:ecr:us-west-2:{DESTINATION}:repository/"
    assert iam.allows(policy, SOURCE, "aws", "ecr:CreateRepository", arn + "prod-api")
    assert not iam.allows(policy, SOURCE, "aws", "ecr:ReplicateImage", arn + "production")


def test_a_replicate_only_destination_compiles_to_its_json() -> None:
    policy = _destination(_state(SETUPS["replicate-only"])).registry_policy()
    assert _published_form(policy, "ReplicationAccessCrossAccount") == REPLICATE_ONLY_POLICY
    _same_permissions(policy, REPLICATE_ONLY_POLICY)


def test_the_exclusion_template_compiles_to_its_request() -> None:
    (template,) = _destination(_state(SETUPS["exclusion-template"])).creation_templates
    assert template.to_api() == EXCLUSIONS_TEMPLATE


def test_a_replicate_only_destination_warns_about_its_replication_template() -> None:
    state = _state(SETUPS["replicate-only"] + EXCLUSIONS_SPEC)
    # (the other warning: a spec of several accounts without a backend)
    (warning,) = [w.format() for w in state.warnings if "creation_templates" in w.format()]
    assert "creation_templates[0].applied_for" in warning
    assert (
        "account 'destination' grants source accounts ecr:ReplicateImage only "
        "(grants.create_repositories: false), so replication never creates a repository in "
        "destination/us-west-2 and this template is never used for REPLICATION there"
    ) in warning
    assert not [
        w for w in _state(SETUPS["exclusion-template"]).warnings if "backend" not in w.format()
    ]


# --- imported back from the moto server ------------------------------------------------------------


def _import(tmp_path: Path) -> tuple[Result, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "imported.yaml"
    result = CliRunner().invoke(
        moto_server.tfgen_cli(),
        [
            "import",
            f"--account=source={SOURCE}",
            f"--account=destination={DESTINATION}",
            "--regions=us-east-1,us-west-2",
            f"--role-arn={moto_server.ROLE}",
            f"--out={out}",
        ],
    )
    assert result.exit_code == 0, result.output
    return result, out


def _notes(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("note:")]


def test_each_setup_imports_exactly(aws: moto_server.MotoAws, tmp_path: Path) -> None:
    for name, text in SETUPS.items():
        state = _state(text)
        _reset(aws)
        aws.apply(state)
        result, out = _import(tmp_path / name)
        assert _notes(result) == [], (name, result.output)
        assert "round trip: compiling the spec gives exactly the live state" in result.output
        imported = compile_loaded(load_spec(out))
        assert imported.to_json() == state.to_json(), name
        accounts = yaml.safe_load(out.read_text(encoding="utf-8"))["accounts"]
        grants = {"create_repositories": False} if name == "replicate-only" else None
        assert accounts["destination"].get("grants") == grants, name


def test_the_published_policies_import_with_one_true_note(
    aws: moto_server.MotoAws, tmp_path: Path
) -> None:
    """The published JSON itself, put with its own Sid: import reproduces its permissions with
    tfgen's grant; the one note says the statement is renamed, and nothing else."""
    for name, published in (
        ("prod-prefix", PROD_PREFIX_POLICY),
        ("replicate-only", REPLICATE_ONLY_POLICY),
    ):
        _reset(aws)
        aws.put_replication(
            SOURCE,
            "us-east-1",
            [
                {
                    "destinations": [{"region": "us-west-2", "registryId": DESTINATION}],
                    "repositoryFilters": [{"filter": "prod-", "filterType": "PREFIX_MATCH"}],
                }
            ],
        )
        aws.put_policy(DESTINATION, "us-west-2", published)
        result, out = _import(tmp_path / name)
        (note,) = _notes(result)
        assert note.startswith(
            "note: destination/us-west-2: replication grant(s) ReplicationAccessCrossAccount "
            "become tfgen's statement(s) TfgenReplication"
        )
        assert note.endswith("(the same permissions)")
        imported = compile_loaded(load_spec(out))
        policy = _destination(imported).registry_policy()
        assert _published_form(policy, "ReplicationAccessCrossAccount") == published
        _same_permissions(policy, published)
        assert (
            _destination(imported).registry_policy()
            == _destination(_state(SETUPS[name])).registry_policy()
        )
        assert "registry policy replication grants: changed: the same permissions" in (
            result.output
        )


def _reset(aws: moto_server.MotoAws) -> None:
    """Empty both registries (the fixture resets the server once per test)."""
    for account, region in ((SOURCE, "us-east-1"), (DESTINATION, "us-west-2")):
        ecr = aws.client("ecr", account, region)
        ecr.put_replication_configuration(replicationConfiguration={"rules": []})
        with contextlib.suppress(ecr.exceptions.RegistryPolicyNotFoundException):
            ecr.delete_registry_policy()
        for template in ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]:
            ecr.delete_repository_creation_template(prefix=template["prefix"])
