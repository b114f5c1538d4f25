"""The `tfgen` command line: the click group, the one error handler, and nothing else.

Each command lives in tfgen.commands (one module per verb or family of verbs) and returns an
`ExitCode`; this module loads it on first use, so `tfgen --version` and a no-op render import
neither the runner, nor boto3, nor rich. Every failure becomes a message and an exit code here
(tfgen.exitcodes): 1 for the user's mistakes, 130 when interrupted, 3 with a crash log for bugs.
"""

from __future__ import annotations

import atexit
import importlib
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from tfgen import __version__, console
from tfgen.errors import TfgenError
from tfgen.exitcodes import ExitCode
from tfgen.words import plural

# name → (module, attribute) of every command; the group's help lists them in this order's sort.
COMMANDS = {
    "init": ("tfgen.commands.init", "init"),
    "validate": ("tfgen.commands.validate", "validate"),
    "compile": ("tfgen.commands.compile", "compile_command"),
    "explain": ("tfgen.commands.explain", "explain"),
    "render": ("tfgen.commands.render", "render"),
    "stacks": ("tfgen.commands.stacks", "stacks"),
    "plan": ("tfgen.commands.run", "plan_command"),
    "apply": ("tfgen.commands.run", "apply_command"),
    "destroy": ("tfgen.commands.run", "destroy_command"),
    "verify": ("tfgen.commands.live", "verify"),
    "import": ("tfgen.commands.live", "import_"),
    "audit": ("tfgen.commands.live", "audit"),
    "lock": ("tfgen.commands.live", "lock"),
}

# Global options also accepted after the command (`tfgen render ... -q`, `tfgen plan --version`):
# no command has options of these names, so they move in front of it, where the group reads them.
_GLOBAL_FLAGS = {"-q", "--quiet", "-v", "-vv", "-vvv", "--verbose", "--no-color", "--version"}


def _hoist_global_flags(argv: list[str]) -> list[str]:
    if "--" in argv:
        cut = argv.index("--")
        head, tail = argv[:cut], argv[cut:]
    else:
        head, tail = argv, []
    flags = [a for a in head if a in _GLOBAL_FLAGS]
    return [*flags, *(a for a in head if a not in _GLOBAL_FLAGS), *tail]


def _fail(code: ExitCode, message: str | None = None) -> NoReturn:
    if message:
        console.error(message)
    sys.stdout.flush()
    sys.exit(code)


def _report(exc: TfgenError) -> None:
    from tfgen.spec.issues import Severity, SpecError

    if console.json_errors:  # the command was asked for --json: stdout gets an answer too
        error: dict[str, object] = {"error": str(exc), "exit_code": int(ExitCode.ERROR)}
        if isinstance(exc, SpecError):
            error["issues"] = [i.to_json() for i in exc.issues]
        sys.stdout.write(json.dumps(error, indent=2) + "\n")
    if not isinstance(exc, SpecError):
        console.error(f"error: {exc}")
        return
    for issue in exc.issues:
        if issue.severity is Severity.ERROR:
            console.error(issue.format())
        else:
            console.warning(issue.format())
    errors = sum(1 for i in exc.issues if i.severity is Severity.ERROR)
    console.error(f"{plural(errors, 'error')}; nothing was written.")


def _crash() -> NoReturn:
    import tempfile  # only here: every command's start-up would pay for them
    import traceback

    with tempfile.NamedTemporaryFile(
        "w", prefix="tfgen-crash-", suffix=".log", delete=False
    ) as log:
        log.write(f"tfgen {__version__}, Python {sys.version}\nargv: {sys.argv}\n\n")
        log.write(traceback.format_exc())
    _fail(
        ExitCode.INTERNAL,
        f"internal error in tfgen {__version__}: {traceback.format_exc().splitlines()[-1]}\n"
        f"This is a bug; the details are in {log.name}. Please report it with that file.",
    )


class _Tfgen(click.Group):
    """Loads commands on first use and owns the one error handler."""

    def main(self, *args: Any, **kwargs: Any) -> NoReturn:
        """click exits 2 on a usage error, which CI reading --detailed-exitcode or verify would
        take for "changes"; tfgen exits 1 for every mistake of the user's."""
        kwargs["standalone_mode"] = False
        if args or kwargs.get("args") is not None:
            argv = list(args[0] if args else kwargs["args"])
        else:
            argv = sys.argv[1:]
        kwargs["args"] = _hoist_global_flags(argv)
        try:
            code = super().main(**kwargs)
        except click.exceptions.ClickException as exc:  # usage errors (click's 2) included
            shown = io.StringIO()
            exc.show(file=shown)
            sys.stderr.write(console.printable(shown.getvalue()))  # it quotes the arguments
            _fail(ExitCode.ERROR)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                _fail(ExitCode.INTERRUPTED, "interrupted")
            _fail(ExitCode.ERROR, "aborted")
        except TfgenError as exc:
            _report(exc)
            _fail(ExitCode.ERROR)
        except KeyboardInterrupt:
            _fail(ExitCode.INTERRUPTED, "interrupted")
        except Exception:
            _crash()
        sys.stdout.flush()
        sys.exit(int(code) if isinstance(code, int) else ExitCode.OK)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attr)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=_Tfgen,
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


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The program: run one command, then end the process (tests use `main_group`)."""
    try:
        main_group.main(args=list(argv) if argv is not None else None, prog_name="tfgen")
    except SystemExit as done:
        _leave(done)


def _leave(done: SystemExit) -> NoReturn:
    """End the process without the interpreter's teardown, which frees every object one by one:
    0.18 s of a 1,010-account render (measured). As Instagram's servers do: the exit functions run
    (atexit: logging's flush, weakref finalizers), the streams are flushed, then os._exit. Only
    when nothing else needs the interpreter: no other thread, an exit code, streams that flush."""
    threading = sys.modules.get("threading")
    if not isinstance(done.code, int) or (threading and threading.active_count() > 1):
        raise done
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: Python reports it as it always does
        raise done from None
    os._exit(done.code)
