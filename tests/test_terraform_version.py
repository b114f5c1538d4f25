"""required_version (tfgen.spec.terraform_version): a constraint Terraform can read, that admits no
Terraform lacking a feature the rendered stacks use; without one, tfgen writes what they need."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rendering import load_errors
from tfgen.compile import compile_loaded
from tfgen.render import hcl
from tfgen.spec import load_spec_text
from tfgen.spec.terraform_version import IMPORT_BLOCKS, S3_ASSUME_ROLE, S3_LOCKFILE, problem

ALL = (IMPORT_BLOCKS, S3_ASSUME_ROLE, S3_LOCKFILE)


@pytest.mark.parametrize(
    "constraint",
    [
        ">= 1.10.0",
        ">= 1.10",
        "~> 1.10",
        "~> 1.11.0",
        "= 1.11.2",
        "1.11.2",
        ">= 1.10, < 2.0.0",
        "> 1.10.0",
        ">=1.10.0,!=1.10.1",
        ">= 1.10.0.1",
        ">= 1.10.0+build5",
        " >= 1.10 ",
        ">= v1.10.0",
    ],
)
def test_constraints_that_admit_only_what_the_stacks_need(constraint: str) -> None:
    assert problem(constraint, ALL) is None


@pytest.mark.parametrize(
    ("constraint", "why"),
    [
        ("banana", "is not a Terraform version constraint"),
        ("", "is not a Terraform version constraint (an empty constraint)"),
        (">= 1.10,", "is not a Terraform version constraint"),
        ("=> 1.10", "is not a Terraform version constraint"),
        ("~> 1.10.0-beta1", "Terraform supports no prerelease version constraints"),
        (">= 1.10\n", "is not a Terraform version constraint"),
        ("< 1.6, > 1.9", "admits no Terraform version at all"),
        ("> 1.10.0, < 1.10.0", "admits no Terraform version at all"),
        ("~> 1.9", "admits Terraform from 1.9.0"),
        ("> 1.9.9", "admits Terraform from 1.9.9 (exclusive)"),
        ("< 2.0", "admits Terraform from 0.0.0"),
        ("!= 1.0.0", "admits Terraform from 0.0.0"),
    ],
)
def test_constraints_refused_and_why(constraint: str, why: str) -> None:
    assert why in (problem(constraint, ALL) or "")


def test_the_message_names_each_missing_feature_and_the_fix() -> None:
    message = problem(">= 1.5.0", ALL) or ""
    assert "assume_role" in message and "needs Terraform >= 1.6.0" in message
    assert "use_lockfile" in message and "needs Terraform >= 1.10.0" in message
    assert "import blocks" not in message  # 1.5.0 has them
    assert message.endswith(
        "Write '>= 1.10.0' (or leave required_version out: tfgen then writes it)"
    )


SPEC = """\
version: 1
defaults:
{defaults}
accounts:
  build: {{id: "111111111111"}}
  prod: {{id: "222222222222"}}
replication:
  - from: {{account: build, regions: [us-east-1]}}
    to: [{{account: prod, regions: [us-east-1]}}]
"""


@pytest.mark.parametrize(
    ("defaults", "written"),
    [
        ("  role_arn: null", ">= 1.5.0"),
        ("  backend: {s3: {bucket: acme-tfstate, region: us-east-1}}", ">= 1.10.0"),
        (
            "  backend: {s3: {bucket: acme-tfstate, region: us-east-1, use_lockfile: false, "
            "role_arn: 'arn:aws:iam::111111111111:role/state'}}",
            ">= 1.6.0",
        ),
        ("  terraform: {required_version: '~> 1.11.0'}", "~> 1.11.0"),
    ],
)
def test_without_a_constraint_tfgen_writes_what_the_features_need(
    defaults: str, written: str
) -> None:
    state = compile_loaded(load_spec_text(SPEC.format(defaults=defaults)))
    assert state.settings.required_version == written


SYNTAX = {
    ">= 1.10.0": True,
    ">=1.10.0,!=1.10.1": True,
    ">= v1.10.0": True,
    ">= 1.10.0.1": True,
    ">= 1.10.0+build5": True,
    "~> 1": True,
    "banana": False,
    ">= 1.10,": False,
    "=> 1.10": False,
}  # a prerelease passes the loader; `terraform validate` (1.11) refuses it, and so do we


@pytest.mark.terraform
@pytest.mark.parametrize(("constraint", "valid"), sorted(SYNTAX.items()))
def test_syntax_agrees_with_terraform(constraint: str, valid: bool, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        "terraform {\n  required_version = " + hcl.string(constraint) + "\n}\n"
    )
    invalid = [e for e in load_errors(tmp_path) if e.startswith("Invalid")]
    assert (invalid == []) is valid, invalid
    ours = problem(constraint, (IMPORT_BLOCKS,)) or ""
    assert ("Terraform version constraint" not in ours) is valid, ours
