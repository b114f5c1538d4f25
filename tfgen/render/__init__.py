"""Step 3: compiled desired state → a repo-ready tree of Terraform (modules, stacks, manifest).

Kept light to import: the no-op fast path (stamp.py) runs before Jinja and the layout are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tfgen.render.retire import PruneCheck, Retirement, retire
from tfgen.render.writer import Change, FileChange, SyncResult, sync

if TYPE_CHECKING:
    from tfgen.render.layout import RenderedStack
    from tfgen.state import DesiredState


@dataclass(frozen=True)
class RenderResult:
    """What a render did to the tree's files, and what it keeps of stacks and Regions that left
    the spec (see tfgen/render/retire.py)."""

    files: SyncResult
    retirement: Retirement = field(default_factory=Retirement)

    @property
    def changed(self) -> tuple[FileChange, ...]:
        """The files written (or, with check, that would be): created, updated, removed."""
        return self.files.changed


def render_files(
    state: DesiredState,
    adopt: frozenset[str] = frozenset(),
    retirement: Retirement | None = None,
) -> tuple[tuple[RenderedStack, ...], dict[str, bytes]]:
    """Every file of the tree, in memory; accounts in `adopt` get Terraform import blocks."""
    from tfgen.render.layout import plan_stacks, retired_stack
    from tfgen.render.resources import module_files

    gone = retirement or Retirement()
    stacks = (
        *plan_stacks(state, adopt, gone.regions),
        *(retired_stack(s, state.settings) for s in gone.stacks),
    )
    files: dict[str, bytes] = dict(module_files())
    for stack in stacks:
        for rel, text in stack.files.items():
            files[rel] = text.encode()
    return stacks, files


def prepare() -> None:
    """Load what rendering a tree needs (the layout, the two-process writer, the compiled stack
    templates) now: while a large spec is read on the other core, and before the render forks,
    so both of its processes share what was compiled."""
    from tfgen.render import parallel, templates  # noqa: F401 - imported for what it imports

    templates.preload()


def render_tree(
    state: DesiredState,
    out_dir: str | Path,
    *,
    may_prune: PruneCheck | None = None,
    check: bool = False,
    adopt: frozenset[str] = frozenset(),
) -> RenderResult:
    """Write the Terraform tree of `state` into `out_dir` (only what changed), or with `check`
    compare it and write nothing. What left the spec since the last render is retired (rendered
    to be destroyed); with `may_prune`, what an earlier render retired goes where it allows."""
    from tfgen import __version__
    from tfgen.manifest import read
    from tfgen.render import parallel, writer
    from tfgen.render.layout import stack_regions

    root = Path(out_dir)
    generator = f"tfgen {__version__}"
    if not check:
        writer.clean_leftovers(root)  # staging directories of killed renders
    if not check and writer.is_new(root) and parallel.worth_it(state):
        return RenderResult(parallel.render_new_tree(state, root, adopt, generator))
    recovered = writer.recover(root, check)  # a half-done update is finished before reading
    previous = None if writer.is_new(root) else read(root)
    retirement = retire(previous, stack_regions(state), may_prune)
    stacks, files = render_files(state, adopt, retirement)
    result = sync(
        root,
        files,
        [s.entry for s in stacks],
        generator,
        previous=previous,
        check=check,
    )
    return RenderResult(replace(result, recovered=recovered), retirement)


__all__ = [
    "Change",
    "FileChange",
    "RenderResult",
    "Retirement",
    "SyncResult",
    "prepare",
    "render_files",
    "render_tree",
]
