"""tfgen init: the commented starter spec validates, renders, documents every field, and never
overwrites a file unasked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from tfgen.cli import main_group
from tfgen.compile import compile_loaded
from tfgen.render import render_tree
from tfgen.spec import load_spec, load_spec_text
from tfgen.spec.model import Spec, _inner_model
from tfgen.starter import starter_text, write_starter


def spec_keys(model: type[BaseModel]) -> set[str]:
    """Every key of the spec, at any depth."""
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        inner = _inner_model(field.annotation)
        if inner is not None:
            keys |= spec_keys(inner)
    return keys


def uncomment(text: str, first: str) -> str:
    """Uncomment the commented-out block that starts with the line `first` (kept indentation):
    that line and the following lines that are commented deeper than it."""
    lines = text.split("\n")
    start = lines.index(first)
    indent = len(first) - len(first.lstrip())
    prefix = " " * indent + "# "
    out = lines[:start]
    i = start
    while i < len(lines) and (
        i == start or (lines[i].startswith(prefix + " ") and lines[i].strip() != "#")
    ):
        out.append(" " * indent + lines[i][len(prefix) :])
        i += 1
    return "\n".join(out + lines[i:])


def test_the_starter_is_valid_and_warns_only_that_it_has_no_backend() -> None:
    state = compile_loaded(load_spec_text(starter_text(), "tfgen.yaml"))
    # Its backend is there, commented: state must not stay in the committed tree.
    (warning,) = state.warnings
    assert warning.message.startswith("no backend for 2 accounts")
    assert "\n  # backend:\n  #   s3:\n  #     bucket: " in starter_text()
    assert {r.label for r in state.registries} == {"build/us-east-1", "prod/us-east-1"}


def test_the_starter_documents_every_field() -> None:
    text = starter_text()
    comments = "\n".join(line for line in text.splitlines() if "#" in line)
    missing = sorted(k for k in spec_keys(Spec) if not re.search(rf"\b{k}\b", comments))
    assert missing == [], f"fields without a comment in the starter: {missing}"
    assert len(spec_keys(Spec)) > 30  # the walk found the nested models too


@pytest.mark.parametrize(
    ("first", "expect"),
    [
        ("  # backend:", "backend"),
        ('    # role_arn: "arn:aws:iam::222222222222:role/ecr-admin"', "account role"),
        ("    #   - Sid: PullThroughCacheForBuild", "statement"),
        ("    # repository_policy:", "repository policy"),
        ("    # regions: [us-east-1]", "template regions"),
    ],
)
def test_the_commented_examples_are_valid_too(first: str, expect: str) -> None:
    text = starter_text()
    if expect == "statement":
        text = text.replace("    statements: []\n", "    statements:\n")
    changed = uncomment(text, first)
    assert changed != text
    state = compile_loaded(load_spec_text(changed, "tfgen.yaml"))
    if expect == "backend":
        assert state.settings.backend is not None
        assert state.settings.backend.dynamodb_table == "terraform-locks"
    elif expect == "account role":
        assert state.accounts["prod"].role_arn == "arn:aws:iam::222222222222:role/ecr-admin"
    elif expect == "statement":
        (prod,) = [r for r in state.registries if r.account == "prod"]
        assert [s["Sid"] for s in prod.extra_statements] == ["PullThroughCacheForBuild"]
    elif expect == "repository policy":
        (prod,) = [r for r in state.registries if r.account == "prod"]
        assert prod.creation_templates[0].repository_policy is not None


def test_init_writes_a_spec_that_validates_and_renders(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "tfgen.yaml"
    result = runner.invoke(main_group, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.stderr
    assert target.read_text() == starter_text()

    result = runner.invoke(main_group, ["validate", str(target)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stderr

    out = tmp_path / "infra"
    render_tree(compile_loaded(load_spec(target)), out)
    assert (out / "stacks/prod/registry-policy/main.tf").is_file()
    assert (out / "stacks/build/replication/main.tf").is_file()
    assert (out / "tfgen.manifest.json").is_file()


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "tfgen.yaml"
    target.write_text("version: 1 # mine\n")
    runner = CliRunner()
    result = runner.invoke(main_group, ["init", str(target)])
    assert result.exit_code == 1
    assert "already exists; use --force" in result.stderr
    assert "Traceback" not in result.output
    assert target.read_text() == "version: 1 # mine\n"
    result = runner.invoke(main_group, ["init", str(target), "--force"])
    assert result.exit_code == 0
    assert target.read_text() == starter_text()
    assert [p.name for p in tmp_path.iterdir()] == ["tfgen.yaml"]  # no temporary file left


def test_init_into_a_directory_and_default_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert write_starter(tmp_path) == tmp_path / "tfgen.yaml"
    monkeypatch.chdir(tmp_path / ".")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    result = CliRunner().invoke(main_group, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sub" / "tfgen.yaml").read_text() == starter_text()


def test_init_into_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main_group, ["init", str(tmp_path / "no" / "tfgen.yaml")])
    assert result.exit_code == 1
    assert "is not a directory; create it first" in result.stderr


@pytest.mark.parametrize("name", ["explain", "init", "stacks"])
def test_help_has_an_example_section(name: str) -> None:
    result = CliRunner().invoke(main_group, [name, "--help"])
    assert result.exit_code == 0
    assert re.search(r"\n  Examples?:\n    tfgen " + name, result.output), result.output
