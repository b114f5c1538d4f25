"""Organizations targets against a moto server: `tfgen lock`, expansion, and verify through it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests import moto_server
from tfgen.compile import compile_loaded
from tfgen.spec import SpecError, load_spec

moto_endpoint = moto_server.moto_endpoint
aws = moto_server.aws

HUB = moto_server.MANAGEMENT_ACCOUNT


@dataclass
class Org:
    client: Any
    root: str
    workloads: str  # OU
    prod: str  # OU inside workloads
    accounts: dict[str, str]  # Organizations name → id

    def add(self, name: str, parent: str) -> str:
        status = self.client.create_account(Email=f"{name}@example.com", AccountName=name)
        account_id = str(status["CreateAccountStatus"]["AccountId"])
        self.client.move_account(
            AccountId=account_id, SourceParentId=self.root, DestinationParentId=parent
        )
        self.accounts[name] = account_id
        return account_id


@pytest.fixture
def org(aws: moto_server.MotoAws) -> Org:
    import boto3

    client = boto3.client("organizations", region_name="us-east-1")  # the management account
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    workloads = client.create_organizational_unit(ParentId=root, Name="workloads")
    prod = client.create_organizational_unit(
        ParentId=workloads["OrganizationalUnit"]["Id"], Name="prod"
    )
    found = Org(
        client, root, workloads["OrganizationalUnit"]["Id"], prod["OrganizationalUnit"]["Id"], {}
    )
    found.add("Prod A", found.prod)  # two levels down: included through the child OU
    found.add("Staging", found.workloads)
    found.add("Sandbox", root)  # outside the OU
    closed = found.add("Old Team", found.workloads)
    client.close_account(AccountId=closed)  # not ACTIVE: left out
    return found


def _spec(tmp_path: Path, org: Org) -> Path:
    path = tmp_path / "tfgen.yaml"
    path.write_text(
        f"""
version: 1
defaults:
  role_arn: "arn:aws:iam::{{account_id}}:role/tfgen"
accounts:
  hub: {{id: "{HUB}"}}
replication:
  - name: to-workloads
    from: {{account: hub, regions: [us-east-1]}}
    to: [{{organizational_unit: {org.workloads}, regions: [us-east-1]}}]
  - name: back
    from: {{organizational_unit: {org.prod}, regions: [eu-west-1]}}
    to: [{{account: hub, regions: [eu-west-1]}}]
""",
        encoding="utf-8",
    )
    return path


def _lock(spec: Path, *args: str) -> Result:
    return CliRunner().invoke(moto_server.tfgen_cli(), ["lock", str(spec), *args])


def test_lock_resolves_active_accounts_recursively(
    aws: moto_server.MotoAws, org: Org, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, org)
    with pytest.raises(SpecError) as before:
        load_spec(spec)
    assert "run 'tfgen lock' to resolve them into accounts" in before.value.issues[0].message

    result = _lock(spec)
    assert result.exit_code == 0, result.output
    prod_a, staging = org.accounts["Prod A"], org.accounts["Staging"]
    assert f"organizational_unit {org.workloads}:" in result.output
    assert f"  + {prod_a} prod-a (Prod A)" in result.output
    lock_file = tmp_path / "tfgen.lock.json"
    data = json.loads(lock_file.read_text(encoding="utf-8"))
    assert data["targets"] == {org.workloads: sorted([prod_a, staging]), org.prod: [prod_a]}
    assert data["accounts"][staging] == {
        "name": "Staging",
        "spec_name": "staging",
        "partition": "aws",
    }
    assert data["organization_id"].startswith("o-")

    # Offline from here: compiling needs only the spec and the lock.
    state = compile_loaded(load_spec(spec))
    labels = [r.label for r in state.registries]
    assert labels == [
        "hub/eu-west-1",
        "hub/us-east-1",
        "prod-a/eu-west-1",
        "prod-a/us-east-1",
        "staging/us-east-1",
    ]
    assert state.accounts["prod-a"].role_arn == f"arn:aws:iam::{prod_a}:role/tfgen"
    hub_eu = next(r for r in state.registries if r.label == "hub/eu-west-1")
    assert hub_eu.grant_sources == (prod_a,)

    # A second run changes nothing, byte for byte.
    before_bytes = lock_file.read_bytes()
    again = _lock(spec)
    assert "tfgen.lock.json: unchanged" in again.output
    assert lock_file.read_bytes() == before_bytes


def test_refresh_shows_accounts_added_and_removed(
    aws: moto_server.MotoAws, org: Org, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, org)
    assert _lock(spec).exit_code == 0
    lock_file = tmp_path / "tfgen.lock.json"
    newcomer = org.add("Data Lake", org.workloads)
    prod_a = org.accounts["Prod A"]
    org.client.move_account(AccountId=prod_a, SourceParentId=org.prod, DestinationParentId=org.root)

    kept = _lock(spec)  # without --refresh the reviewed lock stays as it is
    assert "unchanged" in kept.output
    assert newcomer not in lock_file.read_text(encoding="utf-8")

    result = _lock(spec, "--refresh")
    assert result.exit_code == 0, result.output
    assert f"organizational_unit {org.workloads}:\n  + {newcomer} data-lake (Data Lake)\n" in (
        result.output
    )
    assert f"  - {prod_a} prod-a (Prod A)" in result.output
    data = json.loads(lock_file.read_text(encoding="utf-8"))
    assert data["targets"][org.prod] == []
    assert prod_a not in data["accounts"]
    # The OU in `from` is now empty: a warning, and its entry adds nothing.
    assert "has no active accounts (tfgen.lock.json), so it adds nothing" in result.output


def test_verify_through_expanded_targets(
    aws: moto_server.MotoAws, org: Org, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, org)
    assert _lock(spec).exit_code == 0
    state = compile_loaded(load_spec(spec))
    aws.apply(state)  # each Organizations account reached through its role, like tfgen does
    result = CliRunner().invoke(moto_server.tfgen_cli(), ["verify", str(spec)])
    assert result.exit_code == 0, result.output
    assert "5 registries: 5 in sync" in result.output


def test_organization_target_and_unknown_ou(
    aws: moto_server.MotoAws, org: Org, tmp_path: Path
) -> None:
    spec = tmp_path / "tfgen.yaml"
    spec.write_text(
        f"""
version: 1
defaults: {{role_arn: "arn:aws:iam::{{account_id}}:role/tfgen"}}
accounts: {{hub: {{id: "{HUB}"}}}}
replication:
  - from: {{account: hub, regions: [us-east-1]}}
    to: [{{organization: true, regions: [us-west-2]}}]
""",
        encoding="utf-8",
    )
    assert _lock(spec).exit_code == 0, _lock(spec).output
    data = json.loads((tmp_path / "tfgen.lock.json").read_text(encoding="utf-8"))
    expected = {HUB, *(org.accounts[n] for n in ("Prod A", "Staging", "Sandbox"))}
    assert set(data["targets"]["organization"]) == expected
    assert data["accounts"][HUB]["spec_name"] == "hub"  # listed in the spec: its name is kept

    spec.write_text(
        spec.read_text(encoding="utf-8").replace(
            "organization: true", "organizational_unit: ou-zzzz-zzzzzzzz"
        ),
        encoding="utf-8",
    )
    missing = _lock(spec)
    assert missing.exit_code == 1
    assert "organizational unit ou-zzzz-zzzzzzzz does not exist" in missing.output
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("ou-zzzz-zzzzzzzz", "prod-ou"), encoding="utf-8"
    )
    bad = _lock(spec)
    assert bad.exit_code == 1
    assert "'prod-ou' is not an OU id like 'ou-ab12-cdef3456'" in bad.output
