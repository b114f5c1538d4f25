"""Before any stack starts: is the terraform this run found one the stacks accept?

Every stack's `versions.tf` says `required_version`; a terraform outside it fails every stack the
same way ("Unsupported Terraform Core version", or "Unsupported block type" on syntax it does not
know), once per stack. Checked up front, it is one message naming the binary, its version and the
constraint, and nothing starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tfgen import versions
from tfgen.manifest import Manifest, ManifestStack, TreeGuard, UnsafePathError
from tfgen.run.errors import TerraformNotFoundError
from tfgen.run.terraform import TerraformInfo
from tfgen.words import plural

# What tfgen renders: `required_version = ">= 1.10.0"` in the `terraform` block of versions.tf.
_REQUIRED = re.compile(r'^\s*required_version\s*=\s*"([^"\\]*)"\s*$', re.MULTILINE)


def required_versions(tree: Manifest, stacks: Sequence[ManifestStack]) -> dict[str, list[str]]:
    """Each `required_version` constraint the stacks' versions.tf hold → the stacks holding it."""
    guard = TreeGuard(tree.root)
    found: dict[str, list[str]] = {}
    for stack in stacks:
        try:
            raw = guard.read(f"{stack.path}/versions.tf")
        except (OSError, UnsafePathError):
            continue  # the stack itself then fails, with the reason
        if raw is None:
            continue
        for constraint in _REQUIRED.findall(raw.decode("utf-8", errors="replace")):
            found.setdefault(constraint.strip(), []).append(stack.id)
    return found


def check_required_version(
    tree: Manifest, stacks: Sequence[ManifestStack], terraform: TerraformInfo
) -> None:
    """Raise, naming binary, version and constraint, when the terraform found is one some of the
    stacks refuse. A constraint tfgen cannot read is left to terraform to judge."""
    try:
        have = versions.parse_version(re.sub(r"^v|[-+].*$", "", terraform.version))
    except ValueError:
        return
    refused: list[tuple[str, list[str]]] = []
    for constraint, ids in sorted(required_versions(tree, stacks).items()):
        try:
            clauses = versions.parse(constraint)
        except versions.ConstraintError:
            continue
        if not versions.admits(clauses, have):
            refused.append((constraint, ids))
    if not refused:
        return
    wanted = "; ".join(
        f'"{c}" ({plural(len(ids), "stack")}: {", ".join(ids[:3])}'
        + (f", … {len(ids) - 3} more)" if len(ids) > 3 else ")")
        for c, ids in refused
    )
    raise TerraformNotFoundError(
        f"{terraform.path} is {terraform.flavor} {terraform.version}, which the stacks refuse: "
        f"their required_version is {wanted}. Nothing was started. Install a {terraform.flavor} "
        "the constraint admits and put it first on PATH, or point --terraform or "
        "TFGEN_TERRAFORM at one"
    )
