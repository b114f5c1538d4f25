"""Step 3: compiled desired state → a repo-ready tree of Terraform (modules, stacks, manifest)."""

from __future__ import annotations

from pathlib import Path

from tfgen import __version__
from tfgen.render.layout import Stack, plan_stacks
from tfgen.render.resources import module_files
from tfgen.render.writer import MANIFEST, Change, FileChange, SyncResult, sync
from tfgen.state import DesiredState


def render_files(state: DesiredState) -> tuple[tuple[Stack, ...], dict[str, bytes]]:
    """Every file of the tree, in memory."""
    stacks = plan_stacks(state)
    files: dict[str, bytes] = dict(module_files())
    for stack in stacks:
        for rel, text in stack.files.items():
            files[rel] = text.encode()
    return stacks, files


def render_tree(
    state: DesiredState, out_dir: str | Path, *, prune: bool = False, check: bool = False
) -> SyncResult:
    stacks, files = render_files(state)
    return sync(
        Path(out_dir),
        files,
        [s.to_manifest() for s in stacks],
        f"tfgen {__version__}",
        prune=prune,
        check=check,
    )


__all__ = ["MANIFEST", "Change", "FileChange", "Stack", "SyncResult", "render_files", "render_tree"]
