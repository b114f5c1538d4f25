"""render --adopt against a moto server: applying replaces each adopted registry's whole policy, so
render says so and lists the live statements the spec would drop; offline it still renders."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests import moto_server
from tests.test_aws_verify import BUILD, PROD, SPEC, STAGING
from tfgen.aws import adopt
from tfgen.compile import compile_loaded
from tfgen.manifest import MANIFEST
from tfgen.spec import load_spec

moto_endpoint = moto_server.moto_endpoint
aws = moto_server.aws

GRANT = {
    "Sid": "TfgenReplication",
    "Effect": "Allow",
    "Principal": {"AWS": [f"arn:aws:iam::{BUILD}:root"]},
    "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
    "Resource": [f"arn:aws:ecr:us-east-1:{PROD}:repository/*"],
}
PULL_THROUGH = {  # the spec's own statement of prod/us-east-1, written another way
    "Sid": "PullThroughCreate",
    "Effect": "Allow",
    "Principal": {"AWS": STAGING},
    "Action": "ecr:CreateRepository",
    "Resource": f"arn:aws:ecr:us-east-1:{PROD}:repository/cache/*",
}
LEGACY = {
    "Sid": "LegacyPull",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
    "Action": ["ecr:CreateRepository"],
    "Resource": f"arn:aws:ecr:us-east-1:{PROD}:repository/*",
}
NO_SID = {
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::555555555555:root", "arn:aws:iam::666666666666:root"]},
    "Action": ["ecr:ReplicateImage"],
    "Resource": f"arn:aws:ecr:us-east-1:{PROD}:repository/*",
}


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "tfgen.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def render(spec: Path, *args: str) -> tuple[int, str]:
    out = spec.parent / "tree"
    result = CliRunner().invoke(
        moto_server.tfgen_cli(), ["render", str(spec), "--out", str(out), *args]
    )
    return result.exit_code, result.stdout + result.stderr


def test_render_adopt_lists_the_live_statements_applying_drops(
    aws: moto_server.MotoAws, spec: Path
) -> None:
    policy = {"Version": "2012-10-17", "Statement": [LEGACY, GRANT, PULL_THROUGH, NO_SID]}
    aws.put_policy(PROD, "us-east-1", policy)
    code, out = render(spec, "--adopt-account", "prod")
    assert code == 0, out
    assert (spec.parent / "tree" / MANIFEST).is_file()
    assert "replaces each registry's whole registry policy" in out
    assert (
        "applying prod/us-east-1's registry-policy stack drops 3 live statement(s) the spec "
        "does not have: 'LegacyPull'; 'TfgenReplication' (a grant tfgen wrote before, replaced "
        "by the spec's grants); statement 3 (Allow ecr:ReplicateImage for "
        "arn:aws:iam::555555555555:root, arn:aws:iam::666666666666:root)"
    ) in out
    # The spec's own statement is kept, whatever its form; the live wide grant is tfgen's own,
    # narrowed now to the rules' repositories (said so); prod/eu-west-1 has no live policy, so
    # nothing is dropped there.
    assert "PullThroughCreate" not in out
    assert "prod/eu-west-1" not in out


def test_render_adopt_says_when_nothing_is_dropped(aws: moto_server.MotoAws, spec: Path) -> None:
    aws.apply(compile_loaded(load_spec(spec)))
    code, out = render(spec, "--adopt")
    assert code == 0, out
    assert "replaces each registry's whole registry policy" in out
    assert "the live policies of 3 registries hold no statement the spec drops" in out
    assert "drops" not in out.replace("spec drops", "")


def test_render_adopt_without_credentials_still_renders(
    aws: moto_server.MotoAws, spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, out = render(spec, "--adopt")
    assert code == 0, out
    assert (spec.parent / "tree" / MANIFEST).is_file()
    assert "replaces each registry's whole registry policy" in out
    assert "could not read the live registry policies" in out and "no AWS credentials" in out


def test_render_adopt_offline_still_renders(
    aws: moto_server.MotoAws, spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    start = time.monotonic()
    code, out = render(spec, "--adopt-account", "prod")
    assert code == 0, out
    assert time.monotonic() - start < 60
    assert (spec.parent / "tree" / MANIFEST).is_file()
    assert "could not read the live registry policies" in out and "cannot reach AWS" in out


def test_check_reads_nothing_live(aws: moto_server.MotoAws, spec: Path) -> None:
    aws.put_policy(PROD, "us-east-1", {"Version": "2012-10-17", "Statement": [LEGACY]})
    assert render(spec, "--adopt-account", "prod")[0] == 0
    code, out = render(spec, "--adopt-account", "prod", "--check")
    assert code == 0, out
    assert "replaces each registry's whole registry policy" in out and "LegacyPull" not in out


def test_describe() -> None:
    assert adopt.describe(0, LEGACY) == "'LegacyPull'"
    text = adopt.describe(4, {"Effect": "Deny", "Principal": "*", "NotAction": ["a", "b", "c"]})
    assert text == "statement 4 (Deny a, b +1 more for *)"
