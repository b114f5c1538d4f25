"""A hostile or mistaken spec never crashes tfgen: hypothesis mutates a valid spec that uses every
section (backend, role ARNs, Organizations-free accounts in two partitions, filters, statements,
templates with policies) with YAML 1.1's surprises, tags, placeholders, control characters and
anchors, then runs `tfgen validate`, `compile` and `render`. Each exits 0 or 1 (never 3), every
error names the file, and a refused render writes nothing."""

from __future__ import annotations

import contextlib
import copy
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfgen.cli import main_group

# Leaves are YAML text, written unquoted unless they carry their own quotes.
SCALARS = [
    *("on", "off", "yes", "No", "~", "null", "true", "1", "-1", "1.10", "1:30", "0x1f", "=", "<<"),
    *("011111111111", "111111111111", "12345678901234567890", "1e3", ".inf", "-.inf", ".nan"),
    *("2012-10-17", "2001-12-14t21:59:43.10-05:00", "!!timestamp 2020-01-01"),
    *("!!binary aGk=", "!!int x", "!!float", "!!str 1", "!!set {}", "!custom x", "!!python/none x"),
    *("'{}'", "'{account:{account_id}}'", "'{account_id!r}'", "'arn:aws:iam::{account_id}:role/x'"),
    *('"a\\nb"', '"\\u2028"', '"x\\x1b[31m"', '"%{x}${y}"', '"\\\\"', '"*/"', '"\\r"', "''"),
    *("us-east-1", "ROOT", "team-a", "build", "prod", "AES256", "KMS", "REPLICATION", '"ecr:*"'),
    *('"*"', "Allow", "for", "'ou-ab12-cdef3456'", "[]", "{}", "[us-east-1]", "*a", "&a x", "[*a]"),
]
KEYS = [
    *("version", "accounts", "defaults", "replication", "registry_policies", "creation_templates"),
    *("build", "prod", "id", "role_arn", "partition", "name", "from", "to", "account", "regions"),
    *("filters", "statements", "prefix", "lifecycle_policy", "repository_policy", "resource_tags"),
    *("backend", "s3", "bucket", "region", "key", "terraform", "required_version", "encryption"),
    *("organizational_unit", "organization", "type", "kms_key", "applied_for", "custom_role_arn"),
    *("Effect", "Principal", "AWS", "Action", "Resource", "Sid", "Condition", "for", "on", "<<"),
    *("dynamodb_table", "use_lockfile", "Version", "description", "image_tag_mutability"),
]


def _q(text: str) -> str:
    return f'"{text}"'


SPEC: dict[str, Any] = {
    "version": "1",
    "defaults": {
        "role_arn": _q("arn:aws:iam::{account_id}:role/tfgen"),
        "backend": {
            "s3": {
                "bucket": "acme-tfstate",
                "region": "us-east-1",
                "key": _q("ecr/{account}/{stack}.tfstate"),
                "role_arn": _q("arn:aws:iam::111111111111:role/state"),
            }
        },
        "terraform": {"required_version": _q(">= 1.10.0")},
    },
    "accounts": {
        "build": {"id": _q("111111111111")},
        "prod": {"id": _q("222222222222"), "role_arn": _q("arn:aws:iam::222222222222:role/x")},
        "cn": {
            "id": _q("333333333333"),
            "partition": "aws-cn",
            "role_arn": _q("arn:aws-cn:iam::333333333333:role/x"),
        },
    },
    "replication": [
        {
            "name": "build-to-prod",
            "from": {"account": "build", "regions": ["us-east-1"]},
            "to": [
                {"account": "prod", "regions": ["us-east-1", "eu-west-1"]},
                {"account": "build", "regions": ["us-west-2"]},
            ],
            "filters": ["team-a/", "base"],
        }
    ],
    "registry_policies": {
        "prod": {
            "regions": ["us-east-1"],
            "statements": [
                {
                    "Sid": "Audit",
                    "Effect": "Allow",
                    "Principal": {"AWS": _q("arn:aws:iam::999999999999:root")},
                    "Action": [_q("ecr:ReplicateImage")],
                    "Resource": _q("*"),
                    "Condition": {"DateLessThan": {_q("aws:CurrentTime"): "2030-01-01"}},
                }
            ],
        }
    },
    "creation_templates": [
        {
            "accounts": ["prod"],
            "prefix": "ROOT",
            "regions": ["us-east-1"],
            "description": "x",
            "image_tag_mutability": "IMMUTABLE",
            "encryption": {
                "type": "KMS",
                "kms_key": _q("arn:aws:kms:us-east-1:222222222222:key/abcd"),
            },
            "resource_tags": {"team": "platform"},
            "custom_role_arn": _q("arn:aws:iam::222222222222:role/t"),
            "lifecycle_policy": {
                "rules": [
                    {
                        "rulePriority": "1",
                        "selection": {
                            "tagStatus": "any",
                            "countType": "imageCountMoreThan",
                            "countNumber": "5",
                        },
                        "action": {"type": "expire"},
                    }
                ]
            },
            "repository_policy": {"Version": "2012-10-17", "Statement": []},
        }
    ],
}


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    items = value.items() if isinstance(value, dict) else enumerate(value)
    if isinstance(value, dict | list):
        for k, v in items:
            out.extend(_paths(v, (*path, k)))
    return out


PATHS = _paths(SPEC)[1:]
VALUES = st.recursive(
    st.sampled_from(SCALARS),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=8,
)
MUTATION = st.tuples(st.sampled_from(PATHS), VALUES, st.sampled_from(["set", "delete", "add-key"]))
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=3)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(value)


def _mutate(spec: dict[str, Any], path: tuple[Any, ...], value: Any, how: str) -> None:
    parent: Any = spec
    for part in path[:-1]:
        parent = parent[part]
    if how == "set":
        parent[path[-1]] = value
    elif how == "delete":
        del parent[path[-1]]
    elif isinstance(parent[path[-1]], dict):
        parent[path[-1]][_flow(value) if isinstance(value, str) else "k"] = value


def _text(mutations: list[tuple[tuple[Any, ...], Any, str]]) -> str:
    spec = copy.deepcopy(SPEC)
    for path, value, how in mutations:
        # An earlier mutation may have removed the path.
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _mutate(spec, path, value, how)
    return "".join(f"{k}: {_flow(v)}\n" for k, v in spec.items())


def _assert_no_crash(file: Path, args: list[str]) -> int:
    result = CliRunner().invoke(main_group, ["--no-color", *args])
    output = result.stdout + result.stderr
    assert result.exit_code in (0, 1), output
    assert "internal error" not in output and "Traceback" not in output, output
    if result.exit_code == 1 and args[0] != "render":
        errors = [line for line in result.stderr.splitlines() if " error: " in line]
        assert errors, output
        assert all(line.startswith(f"{file}:") for line in errors), output
    return result.exit_code


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_the_unmutated_spec_is_valid(tmp_path: Path) -> None:
    file = tmp_path / "tfgen.yaml"
    file.write_text(_text([]))
    assert _assert_no_crash(file, ["validate", str(file)]) == 0


@contextlib.contextmanager
def _spec_file(mutations: list[Any]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:  # not tmp_path: one directory per example
        file = Path(tmp) / "tfgen.yaml"
        file.write_text(_text(mutations))
        yield file


@FUZZ
@given(MUTATIONS)
def test_validate_and_compile_never_crash(mutations: list[Any]) -> None:
    with _spec_file(mutations) as file:
        _assert_no_crash(file, ["validate", str(file)])
        _assert_no_crash(file, ["compile", "--json", str(file)])


@FUZZ
@given(MUTATIONS)
def test_render_never_crashes_and_writes_nothing_when_refused(mutations: list[Any]) -> None:
    with _spec_file(mutations) as file:
        out = file.parent / "out"
        if _assert_no_crash(file, ["render", str(file), "--out", str(out)]) == 1:
            assert not out.exists()


@pytest.mark.parametrize("text", ["\x00", "a: \x85", "\ufeffversion: 1", "a: [" * 50, "? ? ? a"])
def test_odd_texts_are_errors_with_the_file_name(text: str, tmp_path: Path) -> None:
    file = tmp_path / "tfgen.yaml"
    file.write_text(text)
    assert _assert_no_crash(file, ["validate", str(file)]) == 1
