"""tfgen audit against a moto server: images that never reached a destination.

moto does not replicate, so the tests put images into sources and destinations by hand, as if
some had been replicated and others pushed before the rule existed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests import moto_server
from tfgen.aws.audit import NOTICE, matching_destinations
from tfgen.compile import compile_loaded
from tfgen.spec import load_spec_text

moto_endpoint = moto_server.moto_endpoint
aws = moto_server.aws

BUILD, PROD, STAGING = "111111111111", "222222222222", "333333333333"
SPEC = f"""
version: 1
defaults:
  role_arn: "arn:aws:iam::{{account_id}}:role/tfgen"
accounts:
  build: {{id: "{BUILD}"}}
  prod: {{id: "{PROD}"}}
  staging: {{id: "{STAGING}"}}
replication:
  - from: {{account: build, regions: [us-east-1]}}
    to: [{{account: prod, regions: [us-east-1, eu-west-1]}}]
    filters: [team-a/]
  - from: {{account: build, regions: [us-east-1]}}
    to: [{{account: staging, regions: [us-east-1]}}]
    filters: [team-b/]
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "tfgen.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def _audit(spec: Path, *args: str) -> Result:
    return CliRunner().invoke(moto_server.tfgen_cli(), ["audit", str(spec), *args])


def _seed(aws: moto_server.MotoAws) -> dict[str, str]:
    digests = {
        "v1": aws.push(BUILD, "us-east-1", "team-a/app", "v1", "app-1"),  # before the rule
        "v2": aws.push(BUILD, "us-east-1", "team-a/app", "v2", "app-2"),
        "api": aws.push(BUILD, "us-east-1", "team-b/api", "1.0", "api-1"),
    }
    aws.push(BUILD, "us-east-1", "tools/lint", "latest", "lint")  # no rule matches it
    # What replication delivered: both images to prod/us-east-1, only v2 to prod/eu-west-1;
    # staging never got team-b/api (not even the repository).
    aws.push(PROD, "us-east-1", "team-a/app", "v1", "app-1")
    aws.push(PROD, "us-east-1", "team-a/app", "v2", "app-2")
    aws.push(PROD, "eu-west-1", "team-a/app", "v2", "app-2")
    return digests


def test_gaps_are_listed_with_what_to_push_again(aws: moto_server.MotoAws, spec: Path) -> None:
    digests = _seed(aws)
    result = _audit(spec)
    assert result.exit_code == 2, result.output
    out = result.stdout
    assert out.startswith(NOTICE)
    assert (
        "build/us-east-1 team-a/app -> prod/eu-west-1 (222222222222): 1 of 2 images missing\n"
        f"  v1 ({digests['v1']})\n" in out
    )
    assert (
        "build/us-east-1 team-b/api -> staging/us-east-1 (333333333333): 1 of 1 image missing "
        "(no such repository there)" in out
    )
    assert "prod/us-east-1" not in out
    assert "tools/lint" not in out
    assert "To replicate them, push 2 images to the source again:" in out
    assert f"  build/us-east-1 team-a/app: v1 ({digests['v1']})" in out
    assert "2 source repositories checked: 2 with gaps, 2 images to push again" in out


def test_json_and_repository_prefix(aws: moto_server.MotoAws, spec: Path) -> None:
    digests = _seed(aws)
    result = _audit(spec, "--json", "--repository", "team-a/")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["notice"] == NOTICE
    assert data["repositories_checked"] == 1
    [gap] = data["gaps"]
    assert gap["destination"] == "prod/eu-west-1"
    assert gap["repository_missing"] is False
    assert [(i["digest"], i["tags"]) for i in gap["missing"]] == [(digests["v1"], ["v1"])]
    assert data["push_again"][0]["repository"] == "team-a/app"


def test_no_gaps_exit_zero(aws: moto_server.MotoAws, spec: Path) -> None:
    aws.push(BUILD, "us-east-1", "team-a/app", "v1", "app-1")
    for region in ("us-east-1", "eu-west-1"):
        aws.push(PROD, region, "team-a/app", "v1", "app-1")
    result = _audit(spec)
    assert result.exit_code == 0, result.output
    assert "1 source repository checked: 0 with gaps, 0 images to push again" in result.output


def test_matching_destinations_follow_the_filters() -> None:
    state = compile_loaded(load_spec_text(SPEC))
    build = next(r for r in state.registries if r.label == "build/us-east-1")
    assert [d.region for d in matching_destinations(build, "team-a/x")] == [
        "us-east-1",
        "eu-west-1",
    ]
    assert [d.registry_id for d in matching_destinations(build, "team-b/x")] == [STAGING]
    assert matching_destinations(build, "team-c/x") == ()
