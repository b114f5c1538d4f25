"""Placeholders in role ARNs and state keys (tfgen.spec.placeholders): filled in literally, never
through str.format, and every other brace refused."""

from __future__ import annotations

import pytest

from tfgen.spec.placeholders import fill, problem

ROLE = ("account", "account_id")
KEY = ("account", "account_id", "stack")


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("arn:aws:iam::{}:role/x", "unknown placeholder {}"),
        ("arn:aws:iam::{0}:role/x", "unknown placeholder {0}"),
        ("arn:aws:iam::{acount_id}:role/x", "unknown placeholder {acount_id}"),
        ("arn:aws:iam::{account_id!r}:role/x", "unknown placeholder {account_id!r}"),
        (
            "arn:aws:iam::{account:>111111111111}:role/x",
            "unknown placeholder {account:>111111111111}",
        ),
        ("arn:aws:iam::{account:{account_id}}:role/x", "a '{' or '}' that is not part"),
        ("arn:aws:iam::{{account_id}}:role/x", "a '{' or '}' that is not part"),
        ("arn:aws:iam::{account_id:role/x", "a '{' or '}' that is not part"),
        ("arn:aws:iam::account_id}:role/x", "a '{' or '}' that is not part"),
        ("arn:aws:iam::{stack}:role/x", "unknown placeholder {stack}"),
    ],
)
def test_anything_but_a_known_placeholder_is_refused(template: str, why: str) -> None:
    assert (problem(template, ROLE) or "").startswith(why)


@pytest.mark.parametrize(
    "template",
    ["arn:aws:iam::{account_id}:role/x", "arn:aws:iam::111111111111:role/{account}", "no braces"],
)
def test_known_placeholders_are_fine(template: str) -> None:
    assert problem(template, ROLE) is None


def test_fill_replaces_literally_and_only_the_named_placeholders() -> None:
    values = {"account": "{account_id}", "account_id": "111111111111", "stack": "replication"}
    # A value that looks like a placeholder stays as it is: no second round of substitution.
    assert fill("ecr/{account}/{account_id}/{stack}.tfstate", values) == (
        "ecr/{account_id}/111111111111/replication.tfstate"
    )
    assert problem("ecr/{account}/{account_id}/{stack}.tfstate", KEY) is None
