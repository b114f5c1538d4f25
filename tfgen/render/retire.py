"""What left the spec since the last render: kept in the tree, rendered to be destroyed, until pruned.

Terraform can only destroy a resource whose provider configuration is still there. So when a Region
leaves a stack, its provider stays (the module call goes, and the plan destroys the Region's
settings); when a whole stack leaves, it stays with its providers and backend and a main.tf that
calls nothing (its plan destroys everything it managed). `tfgen render --prune` then drops what was
retired by an earlier render, one item at a time, only where `may_prune` finds that the removal was
applied (tfgen.run.evidence); anything newly gone is always retired first, never dropped at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tfgen.manifest import Manifest, ManifestStack

# (the stack as the previous render left it, the Regions to drop) → None if they may go, else why not
PruneCheck = Callable[[ManifestStack, tuple[str, ...]], str | None]


@dataclass(frozen=True)
class Retirement:
    """Retired Regions of stacks that stay, retired stacks, and what `--prune` did with them."""

    regions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # stack id → Regions
    stacks: tuple[ManifestStack, ...] = ()  # the previous entries of retired stacks
    pruned: tuple[str, ...] = ()  # "stack id" or "stack id: Region"
    pruned_paths: tuple[str, ...] = ()  # directories of the stacks pruned whole
    kept: tuple[tuple[str, str], ...] = ()  # (what, why) --prune could not drop

    def notices(self) -> list[str]:
        """What to tell the user while something is retired."""
        lines = [
            f"stack {s.id} left the spec: its plan destroys what it managed; after that apply, "
            "`tfgen render --prune` removes it"
            for s in self.stacks
        ]
        lines += [
            f"stack {stack_id}: {', '.join(regions)} left the spec; the provider stays so the plan "
            "can destroy what is there; after that apply, `tfgen render --prune` drops it"
            for stack_id, regions in sorted(self.regions.items())
            if regions
        ]
        lines += [f"--prune kept {what}: {why}" for what, why in self.kept]
        return lines


def retire(
    previous: Manifest | None,
    current: Mapping[str, tuple[str, ...]],
    may_prune: PruneCheck | None,
) -> Retirement:
    """What to keep of `previous` given `current` (stack id → Regions the spec has now)."""
    if previous is None:
        return Retirement()
    regions: dict[str, tuple[str, ...]] = {}
    stacks: list[ManifestStack] = []
    pruned: list[str] = []
    pruned_paths: list[str] = []
    kept: list[tuple[str, str]] = []
    for old in previous.stacks:
        now = current.get(old.id)
        gone = tuple(sorted(set(old.regions) - set(now or ())))
        # Only what an earlier render retired may go now; what left just now is retired first.
        ripe = (
            gone
            if now is None and old.retired
            else tuple(r for r in gone if r in old.retired_regions)
        )
        if may_prune is not None and ripe and (now is None) == old.retired:
            reason = may_prune(old, ripe)
            label = old.id if now is None else f"{old.id}: {', '.join(ripe)}"
            if reason is None:
                pruned.append(label)
                if now is None:
                    pruned_paths.append(old.path)
                    continue
                gone = tuple(r for r in gone if r not in ripe)
            else:
                kept.append((label, reason))
        if now is None:
            stacks.append(old)
        elif gone:
            regions[old.id] = gone
    return Retirement(regions, tuple(stacks), tuple(pruned), tuple(pruned_paths), tuple(kept))
