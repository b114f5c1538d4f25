"""`tfgen render`: bring a rendered tree up to date with a spec.

The order matters: the no-op fast path first (it decides before Jinja, pydantic and the layout are
imported), then validate and compile, then the tree's directory lock (a render never interleaves
with a plan or apply on the same tree), the write, atlantis.yaml, and the stamp that lets the next
unchanged render stop early.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from tfgen.dirlock import DirLock
from tfgen.errors import TfgenError
from tfgen.gcpause import cycle_collection_paused
from tfgen.manifest import MANIFEST
from tfgen.render import stamp
from tfgen.render.retire import PruneCheck
from tfgen.render.writer import Change, FileChange


@dataclass(frozen=True)
class RenderOptions:
    """How `tfgen render` writes the tree."""

    prune: bool = False  # drop what an earlier render retired, where `may_prune` allows
    check: bool = False  # write nothing; report what would change
    atlantis: bool = False  # also write atlantis.yaml at the repository root
    adopt_all: bool = False  # import blocks for every account
    adopt_accounts: tuple[str, ...] = ()  # import blocks for these accounts
    may_prune: PruneCheck | None = None  # evidence that a retired part's removal was applied

    def fingerprint(self) -> list[str]:
        """The options that change what is written (the stamp's digest covers them)."""
        return [
            f"prune={self.prune}",
            f"atlantis={self.atlantis}",
            f"adopt={self.adopt_all}",
            *self.adopt_accounts,
        ]


@dataclass(frozen=True)
class TreeUpdate:
    """What a render did to a tree (with `check`: what it would do)."""

    out_dir: Path
    check: bool
    unchanged: bool = False  # the fast path: nothing tfgen reads changed since the last render
    changed: tuple[FileChange, ...] = ()
    identical: int = 0
    # Worth repeating on every render while they hold (spec warnings, stacks kept): the stamp
    # keeps them for the fast path.
    warnings: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()  # about this render only (stacks pruned, files kept)
    atlantis: tuple[Path, str] | None = None  # atlantis.yaml and 'create' or 'update'
    pruned: bool = False

    @property
    def out_of_date(self) -> bool:
        """With `check`: the committed tree is not what the spec renders."""
        return self.check and bool(self.changed or self.pruned or self.atlantis)


def update_tree(spec: Path, out_dir: Path, options: RenderOptions) -> TreeUpdate:
    """Render `spec` into `out_dir` (see the module docstring for the order of the steps)."""
    with cycle_collection_paused():
        return _update_tree(spec, out_dir, options)


def _update_tree(spec: Path, out_dir: Path, options: RenderOptions) -> TreeUpdate:
    digest = stamp.inputs_digest(spec, options.fingerprint())
    # --check compares every byte (the files and the manifest), never the stamp's file stats;
    # --prune reads what the stamp does not cover (applied records, local state).
    if digest is not None and not options.check and not options.prune:
        messages = stamp.unchanged(out_dir, digest)
        if messages is not None:
            return TreeUpdate(out_dir, options.check, unchanged=True, warnings=tuple(messages))

    from tfgen.spec.ahead import read_ahead

    # A large spec is read on the other core while the rest is imported, the render stage
    # included (its templates compiled here, before the render forks, are compiled once).
    read = read_ahead(spec)
    from tfgen.compile import compile_loaded
    from tfgen.render import prepare, render_tree
    from tfgen.spec import validate_document

    prepare()

    state = compile_loaded(validate_document(read()))
    unknown = sorted(set(options.adopt_accounts) - set(state.accounts))
    if unknown:
        raise TfgenError(f"--adopt-account {unknown[0]}: no such account in {spec}")
    adopt = frozenset(state.accounts if options.adopt_all else options.adopt_accounts)
    lock = (
        DirLock.of_tree(out_dir, "render")
        if (out_dir / MANIFEST).exists()
        else contextlib.nullcontext()
    )
    with lock:
        rendered = render_tree(
            state,
            out_dir,
            may_prune=(options.may_prune or _never) if options.prune else None,
            check=options.check,
            adopt=adopt,
        )
        result, retirement = rendered.files, rendered.retirement
        warnings = [*(w.format() for w in state.warnings), *retirement.notices()]
        notices = [result.recovered] if result.recovered else []
        notices += [f"pruned {what}: its removal was applied" for what in retirement.pruned]
        notices.extend(
            f"left {out_dir / path}: it holds files tfgen did not write (Terraform's working "
            "files, local state): delete it yourself when it is not needed"
            for path in retirement.pruned_paths
            if (out_dir / path).exists() and not options.check
        )
        notices.extend(
            f"kept {out_dir / rel}: no longer rendered, but not the file tfgen wrote (edited or "
            "replaced since); tfgen no longer owns it: delete it yourself if it is not needed"
            for rel in result.kept
        )
        owned = list(result.owned)
        atlantis = None
        if options.atlantis:
            from tfgen.render.atlantis import sync_atlantis  # PyYAML: only when asked for

            path, change = sync_atlantis(out_dir, result.stacks, check=options.check)
            owned.append(os.path.relpath(path, out_dir))
            atlantis = (path, change) if change is not None else None
        update = TreeUpdate(
            out_dir,
            options.check,
            changed=result.changed,
            identical=sum(1 for c in result.changes if c.change is Change.IDENTICAL),
            warnings=tuple(warnings),
            notices=tuple(notices),
            atlantis=atlantis,
            pruned=bool(retirement.pruned),
        )
        if digest is not None and not options.check:
            stamp.write(out_dir, digest, owned, warnings, known=result.written)
    return update


def _never(stack: object, regions: tuple[str, ...]) -> str:
    return "nothing can tell here whether its removal was applied"
