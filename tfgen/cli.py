"""The `tfgen` command line: parse, call the pipeline steps, map failures to exit codes.

Exit codes: 0 success; 1 a problem the user can fix (invalid spec, failed stack, drift with --check);
2 "changes present" where a command documents it (--detailed-exitcode, verify, audit);
3 internal error (a bug: please report it with the log); 130 interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tfgen import __version__, console
from tfgen.errors import TfgenError

if TYPE_CHECKING:
    from tfgen.spec.issues import SpecError

DEFAULT_SPEC = "tfgen.yaml"

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
F = TypeVar("F", bound=Callable[..., Any])


def _print_issues(error: SpecError) -> None:
    for issue in error.issues:
        if issue.severity.value == "error":
            console.error(issue.format())
        else:
            console.warning(issue.format())
    errors = sum(1 for i in error.issues if i.severity.value == "error")
    console.error(f"{errors} error(s); nothing was written.")


def handle_errors(func: F) -> F:
    """Turn every failure into a message and an exit code; a traceback only for bugs, into a log."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TfgenError as exc:
            from tfgen.spec.issues import SpecError

            if isinstance(exc, SpecError):
                _print_issues(exc)
            else:
                console.error(f"error: {exc}")
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            console.error("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception:
            with tempfile.NamedTemporaryFile(
                "w", prefix="tfgen-crash-", suffix=".log", delete=False
            ) as log:
                log.write(f"tfgen {__version__}, Python {sys.version}\nargv: {sys.argv}\n\n")
                log.write(traceback.format_exc())
            console.error(
                f"internal error in tfgen {__version__}: {traceback.format_exc().splitlines()[-1]}\n"
                f"This is a bug; the details are in {log.name}. Please report it with that file."
            )
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


spec_argument = click.argument(
    "spec", default=DEFAULT_SPEC, type=click.Path(dir_okay=False, path_type=Path)
)


def _print_warnings(warnings: Sequence[Any]) -> None:
    for w in warnings:
        console.warning(w.format())


# Commands defined below this module (they cannot import it) are loaded on first use, so
# `tfgen --version` and a no-op render do not import the runner, boto3 or the reports.
_LAZY_COMMANDS = {
    "plan": ("tfgen.commands_run", "plan_command", True),
    "apply": ("tfgen.commands_run", "apply_command", True),
    "destroy": ("tfgen.commands_run", "destroy_command", True),
    "verify": ("tfgen.aws.cli", "verify", True),
    "import": ("tfgen.aws.cli", "import_", True),
    "audit": ("tfgen.aws.cli", "audit", True),
    "lock": ("tfgen.aws.cli", "lock", True),
    "init": ("tfgen.ci_cli", "init", False),  # these three wrap themselves
    "explain": ("tfgen.ci_cli", "explain", False),
    "stacks": ("tfgen.ci_cli", "stacks", False),
}


_OUTPUT_FLAGS = {"-q", "--quiet", "-v", "-vv", "-vvv", "--verbose", "--no-color"}


def _hoist_output_flags(argv: list[str]) -> list[str]:
    """Let -q, -v and --no-color follow the command too (`tfgen render ... -q`): no command has
    options of those names, so they move in front of it, where the group reads them."""
    if "--" in argv:
        cut = argv.index("--")
        head, tail = argv[:cut], argv[cut:]
    else:
        head, tail = argv, []
    flags = [a for a in head if a in _OUTPUT_FLAGS]
    return [*flags, *(a for a in head if a not in _OUTPUT_FLAGS), *tail]


class _LazyGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        """click exits 2 on a usage error, which CI reading --detailed-exitcode or verify would
        take for "changes"; tfgen exits 1 for every mistake of the user's."""
        kwargs["standalone_mode"] = False
        if args or kwargs.get("args") is not None:
            argv = list(args[0] if args else kwargs["args"])
        else:
            argv = sys.argv[1:]
        kwargs["args"] = _hoist_output_flags(argv)
        args = ()
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.UsageError as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except click.exceptions.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            console.error("aborted")
            sys.exit(EXIT_ERROR)
        sys.exit(code if isinstance(code, int) else EXIT_OK)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _LAZY_COMMANDS:
            import importlib

            module, attr, wrap = _LAZY_COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attr)
            if wrap and command.callback is not None:
                command.callback = handle_errors(command.callback)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="tfgen")
@click.option("--no-color", is_flag=True, help="No colours (also when NO_COLOR is set).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("-v", "--verbose", count=True, help="More detail; repeat for more.")
def main_group(no_color: bool, quiet: bool, verbose: int) -> None:
    """Compile one description of Amazon ECR replication into Terraform, and run it.

    \b
    Typical flow:
      tfgen init                      # a commented starter tfgen.yaml
      tfgen validate tfgen.yaml       # check it as AWS would
      tfgen render tfgen.yaml --out infra/ecr
      tfgen plan infra/ecr            # or plain `terraform plan` in each stack
    """
    console.configure(no_color=no_color, quiet=quiet, verbose=verbose)


@main_group.command()
@spec_argument
@click.option("--json", "as_json", is_flag=True, help="Print the issues as JSON.")
@handle_errors
def validate(spec: Path, as_json: bool) -> None:
    """Check a spec as AWS would, without writing anything.

    Exit 0 when valid (warnings are printed), 1 with every error found, each with its file, line
    and path.

    \b
    Example:
      tfgen validate examples/hub-and-spoke/tfgen.yaml
    """
    from tfgen.compile import compile_loaded
    from tfgen.spec import SpecError, load_spec

    try:
        state = compile_loaded(load_spec(spec))
    except SpecError as exc:
        if as_json:
            click.echo(
                json.dumps({"valid": False, "issues": [i.to_json() for i in exc.issues]}, indent=2)
            )
            sys.exit(EXIT_ERROR)
        raise
    if as_json:
        issues = [i.to_json() for i in state.warnings]
        click.echo(json.dumps({"valid": True, "issues": issues}, indent=2))
        return
    _print_warnings(state.warnings)
    console.info(
        f"{spec}: valid; {len(state.registries)} registries in {len(state.accounts)} accounts"
        + (f", {len(state.warnings)} warning(s)" if state.warnings else "")
    )


@main_group.command(name="compile")
@spec_argument
@click.option("--json", "as_json", is_flag=True, help="Print the compiled desired state as JSON.")
@handle_errors
def compile_command(spec: Path, as_json: bool) -> None:
    """Print the desired state of every registry tfgen manages.

    With --json, a list with one object per registry: account, account_id, region, partition,
    replication_configuration (the ECR API's shape), registry_policy and creation_templates.

    \b
    Example:
      tfgen compile tfgen.yaml --json | jq '.[] | select(.account == "prod")'
    """
    from tfgen.compile import compile_loaded
    from tfgen.spec import load_spec

    state = compile_loaded(load_spec(spec))
    _print_warnings(state.warnings)
    if as_json:
        click.echo(json.dumps(state.to_json(), indent=2))
        return
    for reg in state.registries:
        config = reg.replication_configuration()
        rules = len(config["rules"]) if config else 0
        grants = len(reg.grant_sources)
        click.echo(
            f"{reg.label} ({reg.account_id}): {rules} rule(s), {grants} source account(s) granted, "
            f"{len(reg.creation_templates)} creation template(s)"
        )


@main_group.command()
@spec_argument
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the rendered tree (created if missing).",
)
@click.option("--prune", is_flag=True, help="Remove stacks that are gone from the spec.")
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if any file would change (for CI)."
)
@click.option(
    "--atlantis",
    is_flag=True,
    help="Also write atlantis.yaml (at the repository root) with one project per stack.",
)
@click.option(
    "--adopt",
    "adopt_all",
    is_flag=True,
    help="Add Terraform import blocks so the first apply takes over existing settings.",
)
@click.option(
    "--adopt-account",
    "adopt_accounts",
    multiple=True,
    metavar="NAME",
    help="Like --adopt, for this account only (repeatable).",
)
@handle_errors
def render(
    spec: Path,
    out_dir: Path,
    prune: bool,
    check: bool,
    atlantis: bool,
    adopt_all: bool,
    adopt_accounts: tuple[str, ...],
) -> None:
    """Write the Terraform tree: modules/, stacks/<account>/{registry-policy,replication}/.

    Only changed files are written; a re-render of an unchanged spec touches nothing. Files tfgen
    did not write are never touched. A stack gone from the spec is kept (it may still hold state)
    until --prune.

    With --adopt (or --adopt-account NAME), each stack also gets imports.tf: Terraform import
    blocks for the replication configuration, registry policy and creation templates that already
    exist, so the first apply takes them over. Importing an object that does not exist fails the
    plan, so adopt only accounts whose settings exist (see `tfgen import`).

    \b
    Examples:
      tfgen render tfgen.yaml --out infra/ecr
      tfgen render tfgen.yaml --out infra/ecr --check   # in CI: fail if not re-rendered
      tfgen render tfgen.yaml --out infra/ecr --adopt-account prod
    """
    from tfgen.render import stamp

    options = [f"prune={prune}", f"atlantis={atlantis}", f"adopt={adopt_all}", *adopt_accounts]
    digest = stamp.inputs_digest(spec, options)
    if digest is not None:
        messages = stamp.unchanged(out_dir, digest)
        if messages is not None:
            for message in messages:
                console.warning(message)
            console.info(
                f"{out_dir}: 0 file(s) changed (nothing tfgen reads changed since the last render)"
            )
            return

    from tfgen.compile import compile_loaded
    from tfgen.render import Change, render_tree
    from tfgen.spec import load_spec

    state = compile_loaded(load_spec(spec))
    unknown = sorted(set(adopt_accounts) - set(state.accounts))
    if unknown:
        raise TfgenError(f"--adopt-account {unknown[0]}: no such account in {spec}")
    adopt = frozenset(state.accounts if adopt_all else adopt_accounts)
    messages = [w.format() for w in state.warnings]
    # An existing tree is locked like plan/apply lock it: a render never interleaves with a run.
    from tfgen.render import MANIFEST
    from tfgen.run.lock import DirLock

    guard = (
        DirLock(out_dir / ".tfgen" / "lock", "render")
        if (out_dir / MANIFEST).exists()
        else contextlib.nullcontext()
    )
    with guard:
        result = render_tree(state, out_dir, prune=prune, check=check, adopt=adopt)
    verb = "would " if check else ""
    for c in result.changed:
        note = f" ({c.note})" if c.note else ""
        console.info(f"{verb}{c.change.value:9} {out_dir / c.path}{note}")
    for stack in result.orphaned_stacks:
        if stack in result.pruned_stacks:
            console.warning(
                f"removed stack {stack}: it may still hold Terraform state; destroy its resources "
                "or remove them from state if that was not done"
            )
        else:
            messages.append(
                f"stack {stack} is no longer in the spec; kept, since it may still hold state. "
                "Destroy it (tfgen destroy --stacks ...) and re-render with --prune to remove it"
            )
    for message in messages:
        console.warning(message)
    owned = list(result.owned)
    atlantis_changed = False
    if atlantis:
        path, change = _sync_atlantis(out_dir, result.stacks, check=check)
        owned.append(os.path.relpath(path, out_dir))
        atlantis_changed = change is not None
        if change is not None:
            console.info(f"{verb}{change:9} {path}")
    identical = sum(1 for c in result.changes if c.change is Change.IDENTICAL)
    console.info(f"{out_dir}: {len(result.changed)} file(s) {verb}changed, {identical} identical")
    if check:
        if result.changed or result.pruned_stacks or atlantis_changed:
            console.error(
                "the rendered tree is out of date; run `tfgen render` and commit the result"
            )
            sys.exit(EXIT_ERROR)
    elif digest is not None:
        stamp.write(out_dir, digest, owned, messages)


def _sync_atlantis(
    out_dir: Path, stacks: Sequence[Mapping[str, Any]], *, check: bool
) -> tuple[Path, str | None]:
    """Write atlantis.yaml at the repository root (the only place Atlantis reads it); returns
    its path and 'create', 'update' or None when unchanged."""
    from tfgen.pipelines import atlantis_location, atlantis_yaml

    path, prefix = atlantis_location(out_dir)
    text = atlantis_yaml({"stacks": list(stacks)}, dir_prefix=prefix)
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current == text:
        return path, None
    if current is not None and not current.startswith("# Generated by tfgen"):
        raise TfgenError(
            f"{path} exists and tfgen did not write it; merge its projects by hand or move it away"
        )
    if not check:
        tmp = path.with_name(f".{path.name}.tfgen-tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path, "create" if current is None else "update"


def main(argv: Sequence[str] | None = None) -> None:
    main_group.main(args=list(argv) if argv is not None else None, prog_name="tfgen")
