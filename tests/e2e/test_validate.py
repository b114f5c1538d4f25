"""`terraform validate` with the real provider on every rendered stack of the examples (the golden
trees are exactly those renders, tests/test_render.py::test_golden) and on every module example:
what tfgen writes, the real hashicorp/aws schema accepts, without a warning. A directory whose
constraint admits no provider at hand (a feature newer than the mirror's 5.100.0) must be refused
by `terraform init` for that reason, and no other."""

from __future__ import annotations

import concurrent.futures as cf
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import tfenv
from tests.rendering import REPO
from tfgen import versions

GOLDEN = REPO / "tests" / "golden"
STACKS = sorted(p.parent for p in GOLDEN.glob("*/stacks/*/*/main.tf"))
MODULE_EXAMPLES = sorted(p for p in (REPO / "examples" / "modules").iterdir() if p.is_dir())


def _constraint(directory: Path) -> str:
    text = (directory / "versions.tf").read_text()
    aws = text[text.index("aws = {") :]
    found: list[str] = re.findall(r'version\s*=\s*"([^"]+)"', aws)
    return found[0]


def _terraform(terraform: Path, directory: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_IN_AUTOMATION": "1"}
    return subprocess.run(
        [str(terraform), *argv, "-no-color"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _init(terraform: Path, directory: Path) -> subprocess.CompletedProcess[str]:
    return _terraform(terraform, directory, "init", "-backend=false", "-input=false")


def _check(
    terraform: Path,
    directory: Path,
    available: tuple[str, ...],
    init: subprocess.CompletedProcess[str],
) -> str:
    """'' when the directory is as it must be, else what Terraform said."""
    clauses = versions.parse(_constraint(directory))
    usable = [v for v in available if versions.admits(clauses, versions.parse_version(v))]
    if not usable:
        said = init.stdout + init.stderr
        if init.returncode != 0 and "no available releases match" in said:
            return ""
        return f"{directory}: init should refuse (needs a newer provider): {said}"
    if init.returncode != 0:
        return f"{directory}: init: {init.stdout}{init.stderr}"
    validate = _terraform(terraform, directory, "validate", "-json")
    if validate.returncode != 0 or '"warning_count": 0' not in validate.stdout:
        return f"{directory}: validate: {validate.stdout}{validate.stderr}"
    return ""


@pytest.mark.parametrize("kind", ["golden stacks", "module examples"])
def test_every_rendered_stack_validates_with_the_real_provider(
    kind: str,
    terraform_bin: Path,
    aws_provider: tfenv.ProviderSource,
    world_env: object,
    tmp_path: Path,
) -> None:
    originals = STACKS if kind == "golden stacks" else MODULE_EXAMPLES
    assert originals
    # Copies where the originals are, with the modules they call (`../../../modules/...`)
    # linked in: init writes .terraform/ and a lock file, never into the source tree.
    copies = []
    for original in originals:
        copy = tmp_path / original.relative_to(REPO)
        shutil.copytree(original, copy, ignore=shutil.ignore_patterns(".terraform*"))
        copies.append(copy)
        modules = copy.parents[2] / "modules"
        if not modules.exists():
            modules.symlink_to(REPO / "modules")
    available = aws_provider.versions or ("6.99.0",)  # from the registry: the newest there is
    # Every init first, one at a time, then the validates in parallel: without a lock file an init
    # recreates the plugin-cache entry, which fails an init linking it at that moment ("file
    # exists", hashicorp/terraform#31964) and a validate loading through it ("no package ...
    # cached in .terraform/providers"), both seen in CI.
    inits = [_init(terraform_bin, d) for d in copies]
    with cf.ThreadPoolExecutor(2) as pool:
        checked = pool.map(lambda d, i: _check(terraform_bin, d, available, i), copies, inits)
        problems = [p for p in checked if p]
    assert problems == []
