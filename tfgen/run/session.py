"""One run of plan, apply or destroy over a rendered tree: what it holds while stacks run.

`open_session` takes the tree's directory lock, reads the manifest and checks the tree against it
(tfgen runs only what it rendered), prepares DIR/.tfgen, finds and checks terraform, builds the `RunContext` every stack action shares and selects the stacks.
`Session.run` runs an action over stacks in the right order while forwarding Ctrl-C to terraform.
Presenting the results is the report's job (tfgen.report), composed by tfgen.commands.run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tfgen import manifest, safeio
from tfgen.dirlock import DirLock
from tfgen.manifest import Manifest, ManifestStack
from tfgen.run import hashes
from tfgen.run.cachegate import CacheGate
from tfgen.run.errors import RunError
from tfgen.run.events import Listener, ignore
from tfgen.run.failfast import FailFast
from tfgen.run.interrupt import Interrupts, forwarding
from tfgen.run.model import StackResult, Status
from tfgen.run.passthrough import PassThrough
from tfgen.run.preflight import check_required_version
from tfgen.run.scheduler import apply_order, destroy_order, run_stacks, unordered
from tfgen.run.selection import select
from tfgen.run.stacks import RunContext
from tfgen.run.terraform import ProcessGroups, Runner, check_version, find_terraform, parse_version
from tfgen.run.workspace import Workspace

DEFAULT_PARALLELISM = 4


@dataclass(frozen=True)
class RunOptions:
    """What plan, apply and destroy share on the runner's side."""

    stacks: tuple[str, ...] = ()  # glob patterns over stack ids; all stacks when empty
    parallelism: int = DEFAULT_PARALLELISM  # 0: one per CPU
    terraform: str | None = None  # binary; else $TFGEN_TERRAFORM, then terraform/tofu on PATH
    timeout: float | None = None  # seconds one terraform command may take
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment for terraform
    # Last-applied hashes for `--changed` (default DIR/.tfgen/applied.json).
    applied_file: Path | None = None
    flags: PassThrough = field(default_factory=PassThrough)  # Terraform's own options
    # Run every stack even when the first ones fail alike on a broken environment.
    keep_going: bool = False


@dataclass
class Session:
    """A run in progress: the tree, the shared context and the selected stacks."""

    command: str
    options: RunOptions
    manifest: Manifest
    ctx: RunContext
    groups: ProcessGroups
    stacks: tuple[ManifestStack, ...]
    started: float = field(default_factory=time.time)
    interrupts: Interrupts = field(default_factory=Interrupts)

    def run(
        self,
        stacks: Sequence[ManifestStack],
        action: Callable[[ManifestStack], StackResult],
        name: str,
        listener: Listener = ignore,
    ) -> tuple[StackResult, ...]:
        """Run `action` over `stacks`: apply in phase order, destroy in reverse, plans in any
        order; results in the order of `stacks`."""
        if name == "apply":
            order = apply_order(stacks, self.unsettled(stacks))
        elif name == "destroy":
            order = destroy_order(stacks)
        else:
            order = unordered()
        with forwarding(self.groups, self.interrupts):
            self.ctx.listener = listener  # each terraform command shows in the live view
            return run_stacks(
                stacks,
                action,
                action_name=name,
                parallelism=self.options.parallelism,
                order=order,
                groups=self.groups,
                listener=listener,
                fail_fast=None if self.options.keep_going else FailFast(),
            )

    def unsettled(self, applying: Sequence[ManifestStack]) -> tuple[ManifestStack, ...]:
        """Selected stacks not in `applying` whose files differ from their last successful apply
        (or that were never applied): what they manage may not be in place, so nothing that
        depends on it may be applied."""
        applied = hashes.read_applied(self.ctx.workspace.applied_path)
        ids = {s.id for s in applying}
        hasher = hashes.Hasher(self.manifest)
        return tuple(
            st for st in self.stacks if st.id not in ids and applied.get(st.id) != hasher.hash(st)
        )

    def saved(self, destroy: bool = False) -> tuple[ManifestStack, ...]:
        """The selected stacks that have a saved plan."""
        ws = self.ctx.workspace
        return tuple(st for st in self.stacks if ws.read_record(st, destroy) is not None)

    def in_sync(self) -> tuple[ManifestStack, ...]:
        """The selected stacks the last plan found in sync, verified live, with the files they
        have now (so they have nothing to apply)."""
        ws = self.ctx.workspace
        hasher = hashes.Hasher(self.manifest)
        return tuple(
            st
            for st in self.stacks
            if (found := ws.read_in_sync(st)) is not None and found == hasher.hash(st)
        )

    def pending(self, stacks: Sequence[ManifestStack]) -> list[StackResult]:
        """The saved plans of `stacks` as plan results, for the summary shown before applying."""
        out: list[StackResult] = []
        for st in stacks:
            record = self.ctx.workspace.read_record(st)
            if record is not None:
                out.append(
                    StackResult(
                        st, "plan", Status.OK, summary=record.summary, changes=record.changes
                    )
                )
        return out


def terraform_env(overlay: Mapping[str, str], ws: Workspace) -> dict[str, str]:
    """The environment terraform runs with: never prompting, and with a plugin cache shared by
    every stack (the user's TF_PLUGIN_CACHE_DIR, else DIR/.tfgen/plugin-cache)."""
    env = {**os.environ, **overlay}
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("TF_INPUT", "0")
    if not env.get("TF_PLUGIN_CACHE_DIR"):
        cache = safeio.real_dir(ws.state_dir / "plugin-cache")  # terraform writes providers here
        env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    return env


@contextmanager
def open_session(directory: Path, command: str, options: RunOptions) -> Iterator[Session]:
    """Everything a run needs, with the tree's directory lock held until the block ends."""
    root = directory.resolve()
    tree = manifest.load(root, command=command, shown=directory)
    applied = options.applied_file.resolve() if options.applied_file else None
    ws = Workspace(root, applied)
    with DirLock(ws.lock_path, command):
        manifest.check_tree(tree)  # under the lock: a render cannot change the tree meanwhile
        ws.ensure()
        env = terraform_env(options.env, ws)
        binary = find_terraform(options.terraform, env)
        info = check_version(binary, env)
        groups = ProcessGroups()
        runner = Runner(binary, env, groups, color=False, timeout=options.timeout)
        ctx = RunContext(
            manifest=tree,
            workspace=ws,
            runner=runner,
            terraform_version=info.version,
            flags=options.flags,
            cache_gate=CacheGate() if parse_version(info.version) >= (1, 4) else None,
        )
        selected = select(tree.stacks, options.stacks)  # retired ones too: their plans destroy
        if options.stacks and not selected:
            raise RunError(f"no stack matches {', '.join(options.stacks)}")
        check_required_version(tree, selected, info)
        yield Session(command, options, tree, ctx, groups, selected)
