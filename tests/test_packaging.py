"""`pip install .` (a wheel, not only an editable install) ships the modules and templates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.rendering import REPO, tree


def test_wheel_ships_modules_and_templates_and_renders(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        check=True,
    )
    wheel = next((tmp_path / "dist").glob("tfgen-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for required in (
        "tfgen/_data/modules/ecr-replication/main.tf",
        "tfgen/_data/modules/ecr-registry-policy/variables.tf",
        "tfgen/_data/modules/ecr-creation-template/README.md",
        "tfgen/_data/templates/stack/versions.tf.j2",
        "tfgen/py.typed",
    ):
        assert required in names, required
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # Run the unpacked wheel from outside the repository, so only tfgen/_data can serve the files.
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = tmp_path / "out"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tfgen",
            "-q",
            "render",
            str(REPO / "examples" / "hub-and-spoke" / "tfgen.yaml"),
            "--out",
            str(out),
        ],
        check=True,
        cwd=tmp_path,
        env=env,
    )
    probe = subprocess.run(
        [sys.executable, "-c", "import tfgen; print(tfgen.__file__)"],
        check=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert probe.stdout.startswith(str(site))
    rendered = tree(out)
    assert (
        rendered["modules/ecr-replication/main.tf"]
        == (REPO / "modules" / "ecr-replication" / "main.tf").read_bytes()
    )
    assert "stacks/prod/registry-policy/main.tf" in rendered
