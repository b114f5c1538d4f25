from __future__ import annotations

import math
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import tfgen
from tests.rendering import REPO, tree


def test_python_api_round_trip(tmp_path: Path) -> None:
    loaded = tfgen.spec_from_data(
        {
            "version": 1,
            "accounts": {"a": {"id": "111111111111"}, "b": {"id": "222222222222"}},
            "replication": [
                {
                    "from": {"account": "a", "regions": ["us-east-1"]},
                    "to": [{"account": "b", "regions": ["eu-west-1"]}],
                }
            ],
        }
    )
    state = tfgen.compile_spec(loaded)
    assert [r["account"] for r in state.to_json()] == ["a", "b"]
    result = tfgen.render_tree(state, tmp_path / "out")
    assert any(c.path == "stacks/b/registry-policy/main.tf" for c in result.changed)
    assert not tfgen.render_tree(state, tmp_path / "out").changed


def test_api_errors_carry_paths() -> None:
    with pytest.raises(tfgen.SpecError) as info:
        tfgen.spec_from_data({"version": 1, "accounts": {"a": {"id": "1"}}})
    assert info.value.issues[0].where == "accounts.a.id"
    assert isinstance(info.value, tfgen.TfgenError)


def test_api_matches_cli(tmp_path: Path) -> None:
    spec = REPO / "examples" / "mesh" / "tfgen.yaml"
    tfgen.render_tree(tfgen.compile_spec(tfgen.load_spec(spec)), tmp_path / "api")
    subprocess.run(
        [sys.executable, "-m", "tfgen", "-q", "render", str(spec), "--out", str(tmp_path / "cli")],
        check=True,
    )
    assert tree(tmp_path / "api") == tree(tmp_path / "cli")


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError):
        tfgen.nope  # noqa: B018


def test_package_is_typed() -> None:
    assert (Path(tfgen.__file__).parent / "py.typed").is_file()


def test_spec_doc_names_every_field() -> None:
    """docs/spec.md documents every key of spec v1 (kept true as the model grows)."""
    from pydantic import BaseModel

    from tfgen.spec import model

    doc = (REPO / "docs" / "spec.md").read_text()
    missing = []
    for cls in vars(model).values():
        if (
            isinstance(cls, type)
            and issubclass(cls, BaseModel)
            and cls.__module__ == model.__name__
        ):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                if not re.search(rf"[`.]{re.escape(key)}[`.]", doc):
                    missing.append(f"{cls.__name__}.{key}")
    assert missing == []


def _section(doc: str, heading: str) -> str:
    return doc.split(f"## {heading}\n")[1].split("\n## ")[0]


def test_readme_python_api_is_true() -> None:
    section = _section((REPO / "README.md").read_text(), "Python API")
    (imported,) = re.findall(r"^from tfgen import (.+)$", section, re.M)
    names = {n.strip() for n in imported.split(",")}
    names |= set(re.findall(r"`(\w+)\(", section))
    assert names >= {"load_spec", "spec_from_data", "compile_spec", "render_tree", "SpecError"}
    for name in names:
        assert name in tfgen.__all__, name
        assert callable(getattr(tfgen, name)), name


def test_readme_commands_table_lists_every_command() -> None:
    from tfgen.cli import COMMANDS

    table = _section((REPO / "README.md").read_text(), "Commands")
    listed = set(re.findall(r"^\| `tfgen ([a-z]+)", table, re.M))
    assert listed == set(COMMANDS)


def test_running_doc_python_example_imports() -> None:
    doc = (REPO / "docs" / "running.md").read_text()
    (line,) = re.findall(r"^from tfgen\.commands\.run import .+$", doc, re.M)
    exec(line, {})  # the names the docs show exist where they say


def _with_statement(statement: dict[str, object]) -> dict[str, object]:
    return {
        "version": 1,
        "accounts": {"prod": {"id": "222222222222"}},
        "registry_policies": {"prod": {"regions": ["us-east-1"], "statements": [statement]}},
    }


def _nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("condition", "where", "message"),
    [
        (
            {"DateLessThan": {"aws:CurrentTime": date(2030, 1, 1)}},
            ".DateLessThan.aws:CurrentTime",
            "a date is not JSON data",
        ),
        (
            {"Bool": {"aws:SecureTransport": b"true"}},
            ".Bool.aws:SecureTransport",
            "a bytes is not JSON data",
        ),
        (
            {"NumericLessThan": {"aws:MultiFactorAuthAge": math.inf}},
            ".NumericLessThan.aws:MultiFactorAuthAge",
            "inf is not a finite number",
        ),
        ({"NumericLessThan": {1: 2}}, ".NumericLessThan", "key 1 is not text"),
        (_nested(400), ".a.a.a", "nested more than 32 levels deep"),
    ],
)
def test_api_data_that_json_cannot_hold_is_a_spec_error(
    condition: object, where: str, message: str
) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "ecr:ReplicateImage",
        "Resource": "*",
        "Condition": condition,
    }
    with pytest.raises(tfgen.SpecError) as info:
        tfgen.spec_from_data(_with_statement(statement))
    # The IAM grammar check may add its own word on the same value; the JSON check must be there.
    assert any(
        issue.where.startswith(f"registry_policies.prod.statements[0].Condition{where}")
        and message in issue.message
        for issue in info.value.issues
    ), info.value.format()
