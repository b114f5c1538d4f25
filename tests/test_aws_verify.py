"""tfgen verify against a moto server: in sync, drift, missing, errors; and the equivalences."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from moto.ecr.responses import ECRResponse

from tests import moto_server
from tfgen.aws import canonical
from tfgen.aws.live import LiveRegistry
from tfgen.aws.verify import Status, compare
from tfgen.compile import compile_loaded
from tfgen.spec import load_spec, load_spec_text
from tfgen.state import DesiredState

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
    to:
      - {{account: prod, regions: [us-east-1, eu-west-1]}}
      - {{account: staging, regions: [us-east-1]}}
    filters: [team-a/, base/]
  - from: {{account: build, regions: [us-east-1]}}
    to: [{{account: build, regions: [us-west-2]}}]
registry_policies:
  prod:
    regions: [us-east-1]
    statements:
      - Sid: PullThroughCreate
        Effect: Allow
        Principal: {{AWS: "arn:aws:iam::{STAGING}:root"}}
        Action: [ecr:CreateRepository]
        Resource: ["arn:aws:ecr:us-east-1:{PROD}:repository/cache/*"]
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "tfgen.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def _state(spec: Path) -> DesiredState:
    return compile_loaded(load_spec(spec))


def _verify(spec: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(moto_server.tfgen_cli(), ["verify", str(spec), *args])
    return result.exit_code, result.stdout


def _verdicts(spec: Path) -> dict[str, dict[str, object]]:
    code, out = _verify(spec, "--json")
    data = json.loads(out)
    assert {0: "in_sync", 2: "drift", 1: "error"}[code] == data["status"]
    return {f"{r['account']}/{r['region']}": r for r in data["registries"]}


def test_nothing_applied_is_missing(aws: moto_server.MotoAws, spec: Path) -> None:
    code, out = _verify(spec)
    assert code == 2
    assert "build/us-east-1 (111111111111): MISSING" in out
    assert "replication configuration: missing" in out
    assert "prod/us-east-1 (222222222222): MISSING" in out
    assert "4 registries: 0 in sync, 0 drift, 4 missing, 0 errors" in out


def test_applied_state_is_in_sync(aws: moto_server.MotoAws, spec: Path) -> None:
    aws.apply(_state(spec))  # two rules in build/us-east-1: needs the fixture's moto override
    code, out = _verify(spec)
    assert code == 0, out
    assert "4 registries: 4 in sync" in out
    statuses = {k: v["status"] for k, v in _verdicts(spec).items()}
    assert set(statuses.values()) == {"in_sync"}


def test_equivalent_forms_are_not_drift(aws: moto_server.MotoAws, spec: Path) -> None:
    state = _state(spec)
    aws.apply(state)
    build = next(r for r in state.registries if r.label == "build/us-east-1")
    config = build.replication_configuration()
    assert config is not None
    rules = [dict(r) for r in reversed(config["rules"])]
    rules[1]["destinations"] = list(reversed(rules[1]["destinations"]))
    rules[1]["repositoryFilters"] = list(reversed(rules[1]["repositoryFilters"]))
    aws.put_replication(BUILD, "us-east-1", rules)
    prod = next(r for r in state.registries if r.label == "prod/us-east-1")
    (grant,) = prod.grant_groups()
    # The grant with an account-id principal as a plain string, the actions and resources in
    # another order, and the statements in another order.
    aws.put_policy(
        PROD,
        "us-east-1",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PullThroughCreate",
                    "Effect": "Allow",
                    "Principal": {"AWS": STAGING},
                    "Action": "ecr:CreateRepository",
                    "Resource": f"arn:aws:ecr:us-east-1:{PROD}:repository/cache/*",
                },
                {
                    "Sid": grant.sid,
                    "Effect": "Allow",
                    "Principal": {"AWS": BUILD},
                    "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
                    "Resource": [
                        f"arn:aws:ecr:us-east-1:{PROD}:repository/team-a/*",
                        f"arn:aws:ecr:us-east-1:{PROD}:repository/base/*",
                    ],
                },
            ],
        },
    )
    verdicts = _verdicts(spec)
    assert {v["status"] for v in verdicts.values()} == {"in_sync"}
    notes = verdicts["build/us-east-1"]["notes"]
    assert isinstance(notes, list)
    assert any("another order" in n for n in notes)


def test_drift_rule_by_rule_and_statement_by_statement(
    aws: moto_server.MotoAws, spec: Path
) -> None:
    aws.apply(_state(spec))
    aws.put_replication(
        BUILD,
        "us-east-1",
        [
            {  # rule 1 lost prod/eu-west-1
                "destinations": [
                    {"region": "us-east-1", "registryId": PROD},
                    {"region": "us-east-1", "registryId": STAGING},
                ],
                "repositoryFilters": [
                    {"filter": "team-a/", "filterType": "PREFIX_MATCH"},
                    {"filter": "base/", "filterType": "PREFIX_MATCH"},
                ],
            },
            {"destinations": [{"region": "us-west-2", "registryId": BUILD}]},
            {  # someone added a rule by hand
                "destinations": [{"region": "eu-west-1", "registryId": STAGING}],
                "repositoryFilters": [{"filter": "hotfix/", "filterType": "PREFIX_MATCH"}],
            },
        ],
    )
    grant = {
        "Sid": "TfgenReplication",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{BUILD}:root"]},
        "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
        "Resource": [f"arn:aws:ecr:eu-west-1:{PROD}:repository/team-a/*"],
    }
    extra = {
        "Sid": "ByHand",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{STAGING}:root"},
        "Action": "ecr:ReplicateImage",
        "Resource": f"arn:aws:ecr:eu-west-1:{PROD}:repository/*",
    }
    aws.put_policy(PROD, "eu-west-1", {"Version": "2012-10-17", "Statement": [grant, extra]})

    code, out = _verify(spec)
    assert code == 2
    assert "build/us-east-1 (111111111111): DRIFT" in out
    assert (
        "replication rule 1 (filters team-a/, base/): changed: destinations missing: "
        "222222222222/eu-west-1" in out
    )
    assert "replication live rule 3 (filters hotfix/): unexpected" in out
    assert "prod/eu-west-1 (222222222222): DRIFT" in out
    assert (
        "registry policy grant to 111111111111: changed: live ecr:CreateRepository, "
        "ecr:ReplicateImage on repository/team-a/* (live statement TfgenReplication); tfgen "
        "ecr:CreateRepository, ecr:ReplicateImage on repository/base/*, repository/team-a/*"
    ) in out
    assert (
        "registry policy grant to 333333333333: unexpected: the live policy allows "
        "ecr:ReplicateImage on repository/* (live statement ByHand)"
    ) in out
    assert "prod/us-east-1 (222222222222): in sync" in out
    verdicts = _verdicts(spec)
    assert verdicts["staging/us-east-1"]["status"] == "in_sync"
    differences = verdicts["build/us-east-1"]["differences"]
    assert isinstance(differences, list)
    assert [d["change"] for d in differences] == ["changed", "unexpected"]


def test_a_registry_that_cannot_be_read_is_an_error(
    aws: moto_server.MotoAws, tmp_path: Path
) -> None:
    # No role for prod: the ambient credentials are moto's default account, not prod's.
    path = tmp_path / "tfgen.yaml"
    path.write_text(
        SPEC.replace('defaults:\n  role_arn: "arn:aws:iam::{account_id}:role/tfgen"\n', "")
        .replace(
            f'build: {{id: "{BUILD}"}}',
            f'build: {{id: "{BUILD}", role_arn: "arn:aws:iam::{BUILD}:role/tfgen"}}',
        )
        .replace(
            f'staging: {{id: "{STAGING}"}}',
            f'staging: {{id: "{STAGING}", role_arn: "arn:aws:iam::{STAGING}:role/tfgen"}}',
        ),
        encoding="utf-8",
    )
    aws.apply(_state(path))
    code, out = _verify(path)
    assert code == 1
    assert "prod/us-east-1 (222222222222): ERROR" in out
    assert (
        "the ambient credentials used for account 'prod' (222222222222) belong to account "
        f"{moto_server.MANAGEMENT_ACCOUNT}; give the account a role_arn" in out
    )
    assert "build/us-east-1 (111111111111): in sync" in out


def test_creation_templates_are_not_checked_where_the_api_is_missing(
    aws: moto_server.MotoAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tfgen.yaml"
    path.write_text(
        SPEC + "creation_templates:\n  - {accounts: [prod], prefix: ROOT}\n", encoding="utf-8"
    )
    aws.apply(_state(path))
    # An endpoint without the API (plain moto, an old private endpoint): the test server's
    # handler goes for this test, as in moto itself.
    monkeypatch.delattr(ECRResponse, "describe_repository_creation_templates")
    verdicts = _verdicts(path)
    prod = verdicts["prod/eu-west-1"]
    assert prod["status"] == "in_sync"
    assert prod["notes"] == [
        "creation templates not checked: the endpoint does not implement "
        "DescribeRepositoryCreationTemplates"
    ]


def test_creation_templates_are_read_and_compared_live(
    aws: moto_server.MotoAws, tmp_path: Path
) -> None:
    path = tmp_path / "tfgen.yaml"
    path.write_text(
        SPEC + "creation_templates:\n  - {accounts: [prod], prefix: ROOT, "
        "image_tag_mutability: IMMUTABLE}\n",
        encoding="utf-8",
    )
    aws.apply(_state(path))
    assert _verdicts(path)["prod/eu-west-1"]["status"] == "in_sync"
    ecr = aws.client("ecr", PROD, "eu-west-1")
    ecr.update_repository_creation_template(prefix="ROOT", imageTagMutability="MUTABLE")
    prod = _verdicts(path)["prod/eu-west-1"]
    assert prod["status"] == "drift"
    assert "imageTagMutability" in json.dumps(prod["differences"])
    assert _verdicts(path)["prod/us-east-1"]["status"] == "in_sync"


def test_missing_credentials_are_a_clear_error(
    aws: moto_server.MotoAws, spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = CliRunner().invoke(moto_server.tfgen_cli(), ["verify", str(spec)])
    assert result.exit_code == 1
    assert result.stderr.count("no AWS credentials were found; set AWS_PROFILE") == 1
    assert "Traceback" not in result.output


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then closed)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", ["verify", "audit"])
def test_unreachable_aws_is_one_error_up_front_and_json_gets_an_error_object(
    aws: moto_server.MotoAws, spec: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    started = time.monotonic()
    result = CliRunner().invoke(moto_server.tfgen_cli(), [command, str(spec), "--jobs", "1"])
    assert result.exit_code == 1
    assert time.monotonic() - started < 20  # one check, not a wait per registry
    (message,) = [line for line in result.stderr.splitlines() if " warning: " not in line]
    assert message.startswith(
        "error: checking the AWS credentials before reading anything: cannot reach AWS "
        "(AWS_ENDPOINT_URL is http://127.0.0.1:"
    )
    assert result.stdout == ""
    # --json: a program reading stdout gets an answer, not nothing
    result = CliRunner().invoke(moto_server.tfgen_cli(), [command, str(spec), "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["exit_code"] == 1 and "cannot reach AWS" in error["error"]


def test_lock_checks_aws_once_before_reading_organizations(
    aws: moto_server.MotoAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "tfgen.yaml"
    spec.write_text(
        "version: 1\naccounts: {}\nreplication:\n"
        "  - from: {organization: true, regions: [us-east-1]}\n"
        "    to: [{organization: true, regions: [eu-west-1]}]\n"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    result = CliRunner().invoke(moto_server.tfgen_cli(), ["lock", str(spec), "--timeout", "5"])
    assert result.exit_code == 1
    assert "checking the AWS credentials before reading anything: cannot reach AWS" in (
        result.stderr
    )


def test_timeout_stops_the_reads_and_says_what_was_not_read(
    aws: moto_server.MotoAws, spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads that hang (a registry that never answers) end at --timeout, each one named."""
    import threading

    from tfgen.aws import live

    release = threading.Event()
    real = live.read_registry

    def hanging(sessions: object, account: str, region: str, **kw: object) -> object:
        if account == "prod":
            release.wait(60)
        return real(sessions, account, region, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr("tfgen.aws.verify.read_registry", hanging)
    started = time.monotonic()
    try:
        # long enough for the registries that answer on a loaded machine
        code, out = _verify(spec, "--timeout", "8")
    finally:
        release.set()
    assert time.monotonic() - started < 30
    assert code == 1
    assert "prod/us-east-1 (222222222222): ERROR\n  not read: --timeout of 8 s reached first" in out
    assert "build/us-east-1 (111111111111): MISSING" in out  # what answered is reported


def test_progress_shows_on_a_terminal_only(aws: moto_server.MotoAws, spec: Path) -> None:
    """On a terminal (FORCE_COLOR makes rich treat the pipe as one) stderr shows the reads'
    progress; in a pipe, and with -q, nothing but the result."""
    import subprocess
    import sys

    run = [sys.executable, "-m", "tfgen", "verify", str(spec)]
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    shown = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
    assert shown.returncode == 2, shown.stderr
    assert "reading registries" in shown.stderr and "4/4" in shown.stderr
    piped = subprocess.run(run, capture_output=True, text=True, check=False)
    assert piped.returncode == 2 and "reading registries" not in piped.stderr
    quiet = subprocess.run([*run[:3], "-q", *run[3:]], capture_output=True, text=True, env=env)
    assert quiet.stderr == "" and "in sync" not in quiet.stdout
    assert "MISSING" in quiet.stdout


def test_canonical_statement_equivalences() -> None:
    a = {
        "Sid": "X",
        "Effect": "Allow",
        "Principal": {"AWS": "111111111111"},
        "Action": "ECR:ReplicateImage",
        "Resource": "arn:aws:ecr:us-east-1:222222222222:repository/*",
    }
    b = {
        "Sid": "X",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111111111111:root"]},
        "Action": ["ecr:replicateimage"],
        "Resource": ["arn:aws:ecr:us-east-1:222222222222:repository/*"],
    }
    assert canonical.statement_key(a, "aws") == canonical.statement_key(b, "aws")
    assert canonical.statement_key({**a, "Sid": "Y"}, "aws") != canonical.statement_key(b, "aws")
    assert canonical.statement_key({**a, "Principal": "*"}, "aws") == canonical.statement_key(
        {**a, "Principal": {"AWS": ["*"]}}, "aws"
    )


def test_creation_templates_are_compared_where_the_api_exists() -> None:
    # moto lacks the API, so live templates are given in DescribeRepositoryCreationTemplates shape.
    state = compile_loaded(
        load_spec_text(SPEC + "creation_templates:\n  - {accounts: [prod], prefix: ROOT}\n")
    )
    prod = next(r for r in state.registries if r.label == "prod/eu-west-1")
    policy = prod.registry_policy()
    same = {**prod.creation_templates[0].to_api(), "description": "", "resourceTags": []}
    live = LiveRegistry("prod", PROD, "eu-west-1", None, policy, (same,))
    assert compare(prod, live).status is Status.IN_SYNC
    changed = {**same, "imageTagMutability": "IMMUTABLE"}
    other = {**same, "prefix": "legacy"}
    verdict = compare(prod, LiveRegistry("prod", PROD, "eu-west-1", None, policy, (changed, other)))
    assert verdict.status is Status.DRIFT
    assert [d.format() for d in verdict.differences] == [
        "creation template 'ROOT': changed: imageTagMutability is 'IMMUTABLE' live, 'MUTABLE' in tfgen"
    ]
    assert verdict.notes == ("has creation templates tfgen does not manage: legacy",)


def test_each_account_is_reached_through_its_role(aws: moto_server.MotoAws, spec: Path) -> None:
    from tfgen.aws.sessions import Sessions

    sessions = Sessions(_state(spec).accounts)
    for name, account_id in (("build", BUILD), ("prod", PROD)):
        registry = sessions.ecr(name, "eu-west-1").describe_registry()
        assert registry["registryId"] == account_id  # moto acts in the assumed role's account


def test_sessions_share_one_set_of_models_and_keep_few_clients(
    aws: moto_server.MotoAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A boto3 session per account loaded the models anew for each (10 MB per account: 1 GB at
    100 accounts); every client now comes from one session, and only the recent ones are kept."""
    from tfgen.aws.sessions import Sessions
    from tfgen.state import AccountState

    monkeypatch.setattr(Sessions, "MAX_CLIENTS", 3)
    ids = [f"{500000000000 + i:012d}" for i in range(3)]
    accounts = {
        f"a{i}": AccountState(f"a{i}", n, "aws", f"arn:aws:iam::{n}:role/tfgen")
        for i, n in enumerate(ids)
    }
    sessions = Sessions(accounts)
    sessions.preflight()
    clients = [
        sessions.ecr(name, region) for name in accounts for region in ("us-east-1", "eu-west-1")
    ]
    assert len({id(c._loader) for c in clients}) == 1  # one loader: the models are read once
    assert len(sessions._clients) == 3
    # Each client acts in its own account (through its role), as before.
    for name, n in zip(accounts, ids, strict=True):
        assert sessions.ecr(name, "us-east-1").describe_registry()["registryId"] == n


def test_a_role_of_another_account_is_refused(aws: moto_server.MotoAws) -> None:
    from tfgen.aws.errors import AwsError
    from tfgen.aws.sessions import Sessions
    from tfgen.state import AccountState

    role = f"arn:aws:iam::{STAGING}:role/tfgen"
    sessions = Sessions({"prod": AccountState("prod", PROD, "aws", role)})
    with pytest.raises(AwsError, match=f"gives credentials of account {STAGING}"):
        sessions.ecr("prod", "us-east-1")
