"""Terraform's own options that tfgen passes through, and what to say to a Terraform habit.

`--lock-timeout` (plan and apply: how long to wait for the *state* lock in S3 or DynamoDB),
`--refresh=false` (plan) and `--backend-config` (every `init`, including the one `apply` runs for
a plan made in another CI job). Terraform-style flags given to tfgen (`-var`, `-chdir=DIR`) get a
usage error that names the tfgen way instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Go's time.ParseDuration, which Terraform uses for -lock-timeout: "30s", "5m", "1h30m", "500ms".
_DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")
# Argument values that could smuggle secrets into a log or a report: shown as KEY=***.
_SECRET_KEY = re.compile(r"secret|token|password|passphrase|credential|access_key", re.IGNORECASE)
_BACKEND_CONFIG = "-backend-config="


@dataclass(frozen=True)
class PassThrough:
    """Terraform options for every stack of a run."""

    lock_timeout: str | None = None  # -lock-timeout= for plan and apply
    refresh: bool = True  # -refresh=false for plan when False
    backend_config: tuple[str, ...] = ()  # -backend-config= for init: KEY=VALUE or a file

    def init_args(self) -> list[str]:
        return [f"{_BACKEND_CONFIG}{item}" for item in self.backend_config]

    def plan_args(self) -> list[str]:
        args = self._lock_args()
        if not self.refresh:
            args.append("-refresh=false")
        return args

    def apply_args(self) -> list[str]:
        # -refresh cannot be given with a saved plan: the plan already decided it.
        return self._lock_args()

    def _lock_args(self) -> list[str]:
        return [f"-lock-timeout={self.lock_timeout}"] if self.lock_timeout else []


def duration_problem(value: str) -> str | None:
    """Why `value` is not a duration Terraform accepts, or None."""
    if _DURATION.fullmatch(value):
        return None
    return f"{value!r} is not a duration; write it as Terraform does, e.g. 30s, 5m or 1h30m"


def backend_config_item(value: str, cwd: Path) -> str:
    """KEY=VALUE as given; anything else is a file of backend settings, made absolute because
    terraform runs in each stack's directory (Terraform tells the two apart the same way)."""
    if "=" in value:
        key = value.partition("=")[0]
        if not key.strip():
            raise ValueError(f"{value!r}: expected KEY=VALUE or the path of a file")
        return value
    path = cwd / value
    if not path.is_file():
        raise ValueError(f"{value!r}: no such file (expected KEY=VALUE or a file of settings)")
    return str(path.resolve())


def redact(argv: Sequence[str]) -> tuple[str, ...]:
    """argv as it may be shown in logs and reports: secret-looking backend settings masked."""
    out = []
    for arg in argv:
        if arg.startswith(_BACKEND_CONFIG) and "=" in arg[len(_BACKEND_CONFIG) :]:
            key = arg[len(_BACKEND_CONFIG) :].partition("=")[0]
            if _SECRET_KEY.search(key):
                arg = f"{_BACKEND_CONFIG}{key}=***"
        out.append(arg)
    return tuple(out)


# Terraform flags people type out of habit, and what to do in tfgen instead. Keys are the flag
# names without a value; the message is shown as a usage error (exit 1).
_NO_VARIABLES = (
    "tfgen renders no variables: every value comes from the spec. Change tfgen.yaml, "
    "run `tfgen render`, and plan the result"
)
TERRAFORM_HABITS = {
    "-var": _NO_VARIABLES,
    "-var-file": _NO_VARIABLES,
    "-chdir": "tfgen takes the rendered directory as its argument: `tfgen {command} {value}`",
    "-target": "tfgen plans whole stacks: choose them with --stacks PATTERN (e.g. 'prod/*')",
    "-replace": "tfgen plans whole stacks: run `terraform plan -replace=...` inside the stack",
    "-out": "tfgen saves every plan itself, under DIR/.tfgen/plans",
    "-input": "tfgen never prompts terraform for input; the flag is not needed",
    "-no-color": "use --no-color (tfgen's options take two dashes)",
    "-lock": "tfgen always takes the state lock; to wait for it, use --lock-timeout DURATION",
}
# Flags tfgen has with two dashes: -x → --x.
_TWO_DASHES = (
    "lock-timeout",
    "refresh",
    "backend-config",
    "parallelism",
    "auto-approve",
    "detailed-exitcode",
    "json",
)


def terraform_habit(arg: str, command: str) -> str | None:
    """A message when `arg` is a Terraform-style flag (one dash, a long name), else None."""
    if not arg.startswith("-") or arg.startswith("--") or len(arg) < 3:
        return None
    name, _, value = arg.partition("=")
    if name in TERRAFORM_HABITS:
        advice = TERRAFORM_HABITS[name].format(command=command, value=value or "DIR")
        return f"{name} is a Terraform option: {advice}"
    if name[1:] in _TWO_DASHES:
        return f"{name} is Terraform's spelling; tfgen's option is -{arg}"
    return None
