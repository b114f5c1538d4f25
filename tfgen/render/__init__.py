"""Step 3: compiled desired state → a repo-ready tree of Terraform (modules, stacks, manifest).

Kept light to import: the no-op fast path (stamp.py) runs before Jinja and the layout are loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tfgen.render.writer import Change, FileChange, SyncResult, sync

if TYPE_CHECKING:
    from tfgen.render.layout import RenderedStack
    from tfgen.state import DesiredState


def render_files(
    state: DesiredState, adopt: frozenset[str] = frozenset()
) -> tuple[tuple[RenderedStack, ...], dict[str, bytes]]:
    """Every file of the tree, in memory; accounts in `adopt` get Terraform import blocks."""
    from tfgen.render.layout import plan_stacks
    from tfgen.render.resources import module_files

    stacks = plan_stacks(state, adopt)
    files: dict[str, bytes] = dict(module_files())
    for stack in stacks:
        for rel, text in stack.files.items():
            files[rel] = text.encode()
    return stacks, files


def render_tree(
    state: DesiredState,
    out_dir: str | Path,
    *,
    prune: bool = False,
    check: bool = False,
    adopt: frozenset[str] = frozenset(),
) -> SyncResult:
    """Write the Terraform tree of `state` into `out_dir` (only what changed), or with `check`
    compare it and write nothing. Stacks gone from the state are kept until `prune`."""
    from tfgen import __version__
    from tfgen.render import parallel, writer

    root = Path(out_dir)
    if not check:
        writer.clean_leftovers(root)  # staging directories of killed renders
    if not check and writer.is_new(root) and parallel.worth_it(state):
        return parallel.render_new_tree(state, root, adopt, f"tfgen {__version__}")
    stacks, files = render_files(state, adopt)
    return sync(
        root,
        files,
        [s.entry for s in stacks],
        f"tfgen {__version__}",
        prune=prune,
        check=check,
    )


__all__ = ["Change", "FileChange", "SyncResult", "render_files", "render_tree"]
