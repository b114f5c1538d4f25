"""Whether the removal of a retired stack or Region was applied, so `tfgen render --prune` may drop
its provider configuration (tfgen/render/retire.py).

Dropping a provider while the state still holds a resource of it makes every later plan fail
("Provider configuration not present"), so --prune needs evidence, and there are two kinds:
- the stack's local state (`terraform.tfstate` beside its files) holds no resource of those
  Regions' providers (of any provider, for a whole stack);
- tfgen's record of the last successful apply (DIR/.tfgen/applied.json, or --applied-file in CI)
  has the stack at exactly its current files: the plan that destroys the retired parts was
  applied. That is the only evidence for remote state, which tfgen does not read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tfgen.manifest import Manifest, ManifestStack, TreeGuard, UnsafePathError
from tfgen.render.layout import alias
from tfgen.render.retire import PruneCheck
from tfgen.run import hashes
from tfgen.run.workspace import Workspace

_AWS = 'provider["registry.terraform.io/hashicorp/aws"]'


def prune_check(tree: Manifest, applied_file: Path | None = None) -> PruneCheck:
    """The check `render --prune` runs for each retired stack or set of Regions."""
    applied = hashes.read_applied(Workspace(tree.root, applied_file).applied_path)
    guard = TreeGuard(tree.root)
    hasher = hashes.Hasher(tree)

    def check(stack: ManifestStack, regions: tuple[str, ...]) -> str | None:
        whole = set(regions) >= set(stack.regions)
        left = _local_resources(guard, stack, None if whole else regions)
        if left is not None:
            if not left:
                return None
            shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
            return (
                f"{stack.path}/terraform.tfstate still holds {shown}: run `tfgen plan` and "
                "`tfgen apply` first (the plan destroys them), then prune"
            )
        if applied.get(stack.id) == hasher.hash(stack):
            return None
        return (
            "tfgen has no record that the plan destroying it was applied (the state is remote; "
            "the record is DIR/.tfgen/applied.json, or --applied-file in CI): run `tfgen plan` "
            "and `tfgen apply` first; if it was destroyed another way, remove it from the "
            "state or the tree by hand"
        )

    return check


def _local_resources(
    guard: TreeGuard, stack: ManifestStack, regions: Sequence[str] | None
) -> list[str] | None:
    """Addresses in the stack's local state of the Regions' providers (all, with None); None when
    the stack keeps no local state."""
    try:
        raw = guard.read(f"{stack.path}/terraform.tfstate")
    except (OSError, UnsafePathError):
        return None
    if raw is None:
        return None
    try:
        resources = json.loads(raw).get("resources", [])
    except (ValueError, AttributeError):
        return [f"{stack.path}/terraform.tfstate (not readable as Terraform state)"]
    providers = None if regions is None else {f"{_AWS}.{alias(r)}" for r in regions}
    found = []
    for r in resources if isinstance(resources, list) else []:
        if not isinstance(r, dict) or not r.get("instances"):
            continue
        if providers is None or r.get("provider") in providers:
            module = f"{r['module']}." if r.get("module") else ""
            found.append(f"{module}{r.get('type')}.{r.get('name')}")
    return found
