"""A moto server on 127.0.0.1 (random port) for the tests of tfgen.aws, and helpers to seed it.

Tests reach it over real HTTP through AWS_ENDPOINT_URL, as tfgen would reach AWS. Accounts are
separate because each client assumes `arn:aws:iam::<id>:role/tfgen` through STS: moto then acts in
that account. Import the fixtures by assigning them in the test module
(`moto_endpoint = moto_server.moto_endpoint`, `aws = moto_server.aws`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
import click
import pytest
from moto.server import ThreadedMotoServer

from tests import moto_ext
from tfgen.cli import main_group
from tfgen.state import DesiredState

ROLE = "arn:aws:iam::{account_id}:role/tfgen"
MANAGEMENT_ACCOUNT = "123456789012"  # moto's default account: the ambient test credentials


@contextlib.contextmanager
def serving() -> Iterator[str]:
    """The URL of a moto server running in this process, with tests/moto_ext.py's additions,
    until the block ends (the benchmarks use it too)."""
    # One log line per request drowns a failing test's output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with pytest.MonkeyPatch.context() as patch:
        moto_ext.install(patch)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto server running in this process, with tests/moto_ext.py's additions."""
    with serving() as url:
        yield url


class MotoAws:
    """Seeds the moto server: registries, policies, repositories and images, per account."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, account_id: str, region: str = "us-east-1") -> Any:
        key = (service, account_id, region)
        with self._lock:
            if key not in self._clients:
                sts = boto3.client("sts", region_name="us-east-1")
                creds = sts.assume_role(
                    RoleArn=ROLE.format(account_id=account_id), RoleSessionName="seed"
                )["Credentials"]
                self._clients[key] = boto3.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    aws_access_key_id=creds["AccessKeyId"],
                    aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"],
                )
            return self._clients[key]

    def put_replication(self, account_id: str, region: str, rules: Sequence[Any]) -> None:
        self.client("ecr", account_id, region).put_replication_configuration(
            replicationConfiguration={"rules": list(rules)}
        )

    def put_policy(self, account_id: str, region: str, policy: dict[str, Any]) -> None:
        self.client("ecr", account_id, region).put_registry_policy(policyText=json.dumps(policy))

    def apply(self, state: DesiredState) -> None:
        """What `terraform apply` of the rendered stacks would do, through the API directly."""
        for registry in state.registries:
            config = registry.replication_configuration()
            if config is not None:
                self.put_replication(registry.account_id, registry.region, config["rules"])
            policy = registry.registry_policy()
            if policy is not None:
                self.put_policy(registry.account_id, registry.region, policy)
            ecr = self.client("ecr", registry.account_id, registry.region)
            for template in registry.creation_templates:
                ecr.create_repository_creation_template(**template.to_api())

    def push(self, account_id: str, region: str, repository: str, tag: str, seed: str) -> str:
        """Put an image (a manifest unique to `seed`) under `tag`; returns its digest."""
        ecr = self.client("ecr", account_id, region)
        with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
            ecr.create_repository(repositoryName=repository)
        # moto derives the digest from the layers' digests, so the seed goes into a layer.
        layer = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7023,
                "digest": layer,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1024,
                    "digest": layer,
                }
            ],
        }
        image = ecr.put_image(
            repositoryName=repository, imageTag=tag, imageManifest=json.dumps(manifest)
        )
        return str(image["image"]["imageId"]["imageDigest"])


# What could lead boto3 or the provider to credentials other than the fake ones the tests set.
AMBIENT_CREDENTIALS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MotoAws:
    """A reset moto server and an environment that reaches only it, with fake credentials."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    for name in AMBIENT_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return MotoAws(moto_endpoint)


def tfgen_cli() -> click.Group:
    """tfgen's command group, with the live-registry commands and its one error handler."""
    return main_group
