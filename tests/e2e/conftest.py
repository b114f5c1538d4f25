"""Fixtures of the end-to-end tests: the real hashicorp/aws provider, Terraform >= 1.5, a moto server
on 127.0.0.1 standing in for AWS (STS, ECR, S3 for the state), and a CLI config of our own.

Without the provider the tests skip with one reason, except under CI=true, where they fail: CI can
never go green without them (tests/tfenv.py says where the provider is looked for).
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import boto3
import pytest

from tests import moto_server, tfenv
from tests.e2e.harness import STATE_BUCKET, World

moto_endpoint = moto_server.moto_endpoint


@pytest.fixture(scope="session")
def aws_provider() -> tfenv.ProviderSource:
    found = tfenv.find_aws_provider()
    if isinstance(found, str):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the end-to-end tests cannot run: {found}")
        pytest.skip(found)
    return found


@pytest.fixture(scope="session")
def e2e_cli_config(
    tmp_path_factory: pytest.TempPathFactory, aws_provider: tfenv.ProviderSource, tf_mirror: Path
) -> Path:
    mirrors = {tfenv.NULL: tf_mirror}
    if aws_provider.mirror is not None:
        mirrors[tfenv.AWS] = aws_provider.mirror
    base = tmp_path_factory.mktemp("e2e-tf")
    return tfenv.write_cli_config(base / "cli.tfrc", mirrors, plugin_cache=base / "plugin-cache")


def backend_config(endpoint: str) -> list[str]:
    """What `terraform init` needs to keep state in moto's S3 (path-style: no bucket DNS names)."""
    return [f'endpoints={{s3="{endpoint}"}}', "use_path_style=true"]


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def environment(endpoint: str, cli_config: Path, tmp: Path) -> dict[str, str | None]:
    """An environment that reaches only the moto server (None: unset)."""
    env: dict[str, str | None] = dict.fromkeys(moto_server.AMBIENT_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
            "TF_CLI_CONFIG_FILE": str(cli_config),
            # tfgen keeps a plugin cache per tree unless one is set; one for the session is faster.
            "TF_PLUGIN_CACHE_DIR": str(cli_config.parent / "plugin-cache"),
            "CHECKPOINT_DISABLE": "1",
            # Terraform and the provider (Go) collect garbage less often: measured on `validate`
            # of a registry-policy stack, 25% less CPU for 20% more memory; e2e is CPU-bound.
            "GOGC": os.environ.get("GOGC", "400"),
        }
    )
    return env


def enter(monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None]) -> None:
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def fresh_moto(monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None]) -> moto_server.MotoAws:
    """Reset the moto server and create the state bucket, with `env` entered."""
    endpoint = env["AWS_ENDPOINT_URL"]
    assert endpoint is not None
    reset(endpoint)
    enter(monkeypatch, env)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=STATE_BUCKET)
    return moto_server.MotoAws(endpoint)


@pytest.fixture
def world_env(
    moto_endpoint: str,
    e2e_cli_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> moto_server.MotoAws:
    """A reset moto server, an environment that reaches only it, and the state bucket."""
    return fresh_moto(monkeypatch, environment(moto_endpoint, e2e_cli_config, tmp_path))


@pytest.fixture
def world(
    world_env: moto_server.MotoAws, terraform_bin: Path, moto_endpoint: str, tmp_path: Path
) -> World:
    return World(tmp_path, world_env, terraform_bin, backend_config(moto_endpoint))
