"""`defaults.backend.s3` (tfgen.spec.backend): the names S3, DynamoDB and IAM accept, and the state
key Terraform's S3 backend accepts."""

from __future__ import annotations

import pytest

from tfgen.spec.backend import bucket_problem, check_backend
from tfgen.spec.model import S3Backend


@pytest.mark.parametrize(
    "name", ["acme-tfstate", "abc", "a" * 63, "tf.state.example", "123bucket", "my-bucket-s3"]
)
def test_valid_bucket_names(name: str) -> None:
    assert bucket_problem(name) is None


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Acme", "lowercase"),
        ("acme_state", "lowercase"),
        ("-acme", "starting and ending"),
        ("acme.", "starting and ending"),
        ("acme\n", "3 to 63"),
        ("acme..state", "no two adjacent periods"),
        ("10.0.0.1", "IP address"),
        ("xn--acme", "'xn--'"),
        ("sthree-acme", "'sthree-'"),
        ("amzn-s3-demo-acme", "'amzn-s3-demo-'"),
        ("acme-s3alias", "'-s3alias'"),
        ("acme--ol-s3", "'--ol-s3'"),
        ("acme.mrap", "'.mrap'"),
        ("acme--x-s3", "'--x-s3'"),
        ("acme--table-s3", "'--table-s3'"),
    ],
)
def test_bucket_naming_rules(name: str, rule: str) -> None:
    assert rule in (bucket_problem(name) or "")


def _messages(**fields: object) -> list[str]:
    s3 = S3Backend.model_validate({"bucket": "acme-tfstate", "region": "us-east-1", **fields})
    return [i.message for i in check_backend(s3)]


def test_a_valid_backend_has_no_issues() -> None:
    assert (
        _messages(
            dynamodb_table="tf-locks.v2", role_arn="arn:aws:iam::111111111111:role/path/state"
        )
        == []
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("ecr/{account}//{stack}.tfstate", "must not contain '//'"),
        ("ecr/{account}/{stack}/", "must not start or end with '/'"),
        ("ecr/{account}/" + "x" * 1000 + "/{stack}", "can exceed 1,024 bytes"),
        ("ecr/{account_id}/{stack}.tfstate", None),
    ],
)
def test_state_key_rules(key: str, message: str | None) -> None:
    messages = _messages(key=key)
    assert messages == ([] if message is None else [m for m in messages if message in m])
    assert message is None or messages


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::{account_id}:role/state",  # one role for every stack: no placeholders
        "arn:aws:iam::111111111111:role/stäte",
        "arn:aws:iam::111111111111:role/state\n",
        "arn:aws:sts::111111111111:assumed-role/state/session",
    ],
)
def test_backend_role_arn_must_be_a_plain_role_arn(role_arn: str) -> None:
    (message,) = _messages(role_arn=role_arn)
    assert "is not an IAM role ARN like 'arn:aws:iam::111111111111:role/NAME'" in message
