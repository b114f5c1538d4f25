"""The one place tfgen starts terraform: find it, check its version, run one command.

Our own layer rather than python-terraform (docs/running.md): argv lists, no shell, no prompts,
a process group per command so an interrupt reaches terraform and its providers, output streamed
to the stack's log and captured, and a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tfgen.run.errors import TerraformNotFoundError
from tfgen.run.model import StepResult
from tfgen.run.passthrough import redact
from tfgen.spec.terraform_version import IMPORT_BLOCKS

# The oldest terraform tfgen can drive at all (`version -json`, `show -json`, `-detailed-exitcode`);
# what the stacks need is their own required_version (run/preflight.py checks it).
MIN_VERSION = (1, 0, 0)
# The oldest Terraform tfgen's rendered stacks can need (import blocks, for --adopt).
STACKS_MINIMUM = ".".join(map(str, IMPORT_BLOCKS.minimum[:2]))
ENV_VAR = "TFGEN_TERRAFORM"
CANDIDATES = ("terraform", "tofu")
# Seconds terraform gets to stop cleanly (and release its state lock) before SIGKILL.
GRACE = 30.0

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Subcommands that take `-input=false`; `show` and `version` reject it.
_TAKES_INPUT = frozenset({"init", "plan", "apply", "destroy", "refresh", "import"})
_TAKES_NO_COLOR = _TAKES_INPUT | {"show", "validate", "output"}


@dataclass(frozen=True)
class TerraformInfo:
    """The terraform (or tofu) binary a run uses, and its version."""

    path: str
    version: str
    flavor: str


def find_terraform(explicit: str | None, environ: Mapping[str, str]) -> str:
    """`--terraform`, else `$TFGEN_TERRAFORM`, else `terraform` then `tofu` on PATH."""
    path_var = environ.get("PATH", os.defpath)
    for source, value in (("--terraform", explicit), (ENV_VAR, environ.get(ENV_VAR))):
        if value:
            found = shutil.which(value, path=path_var)
            if found is None:
                raise TerraformNotFoundError(
                    f"{source}={value}: no such executable; give the path to terraform or tofu"
                )
            return found
    for name in CANDIDATES:
        found = shutil.which(name, path=path_var)
        if found:
            return found
    raise TerraformNotFoundError(
        f"neither `terraform` nor `tofu` is on PATH; install Terraform >= {STACKS_MINIMUM} "
        "(the stacks' required_version says which; >= 1.10 with the S3 backend's use_lockfile) "
        f"or OpenTofu, or point --terraform or {ENV_VAR} at one"
    )


def parse_version(text: str) -> tuple[int, ...]:
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    if not match:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(p) for p in match.groups())


def check_version(binary: str, env: Mapping[str, str]) -> TerraformInfo:
    """Run `version -json` (Terraform >= 0.13, every OpenTofu) and enforce MIN_VERSION."""
    minimum = ".".join(map(str, MIN_VERSION))
    try:
        proc = subprocess.run(
            [binary, "version", "-json"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TerraformNotFoundError(f"{binary} could not be run: {exc}") from None
    try:
        data = json.loads(proc.stdout)
        version = str(data["terraform_version"])
        parsed = parse_version(version)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise TerraformNotFoundError(
            f"{binary} did not answer `version -json` (exit {proc.returncode}); "
            f"tfgen needs Terraform >= {minimum} or OpenTofu"
        ) from None
    if parsed < MIN_VERSION:
        raise TerraformNotFoundError(f"{binary} is Terraform {version}; tfgen needs >= {minimum}")
    flavor = "tofu" if "tofu" in Path(binary).name.lower() else "terraform"
    return TerraformInfo(path=binary, version=version, flavor=flavor)


class ProcessGroups:
    """The running terraform process groups, so an interrupt can be forwarded to all of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pids: set[int] = set()
        self._stopping = False

    def is_stopping(self) -> bool:
        # A method, not a field: another thread (the signal handler) flips it.
        return self._stopping

    def add(self, pid: int) -> None:
        with self._lock:
            self._pids.add(pid)
            late = self._stopping
        if late:
            _killpg(pid, signal.SIGINT)

    def discard(self, pid: int) -> None:
        with self._lock:
            self._pids.discard(pid)

    def interrupt(self, sig: int = signal.SIGINT) -> int:
        """Stop starting commands and send `sig` to every running group; returns how many."""
        with self._lock:
            self._stopping = True
            pids = list(self._pids)
        for pid in pids:
            _killpg(pid, sig)
        return len(pids)


def _killpg(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class Runner:
    """Runs terraform subcommands with one configuration: binary, env overlay, colour, timeout."""

    binary: str
    env: Mapping[str, str]
    groups: ProcessGroups
    color: bool = False
    timeout: float | None = None

    def argv(self, subcommand: str, args: Sequence[str]) -> list[str]:
        flags = []
        if subcommand in _TAKES_INPUT:
            flags.append("-input=false")
        if subcommand in _TAKES_NO_COLOR and not self.color:
            flags.append("-no-color")
        return [self.binary, subcommand, *flags, *args]

    def run(
        self,
        name: str,
        args: Sequence[str],
        cwd: Path,
        log: IO[str],
        *,
        capture_stdout: bool = False,
        render: Callable[[str], str] | None = None,
    ) -> tuple[StepResult, str]:
        """Run `terraform <name> args` in cwd. Output goes to `log` as it comes and is returned
        in the StepResult. With capture_stdout, stdout is returned apart (for `show -json`).
        With render, each line is logged and kept as render(line), and the raw output is
        returned apart (for the `-json` UI stream)."""
        argv = self.argv(name, args)
        shown = redact(argv)  # what logs and reports may show
        log.write(f"$ {' '.join(shown)}    (in {cwd})\n")
        log.flush()
        start = time.monotonic()
        if self.groups.is_stopping():
            log.write("not started: interrupted\n")
            return StepResult(name, shown, None, 0.0, interrupted=True), ""
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if capture_stdout else subprocess.STDOUT,
                start_new_session=True,
                text=True,
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            log.write(f"could not start: {exc}\n")
            return StepResult(name, shown, None, 0.0, output=str(exc)), ""
        self.groups.add(proc.pid)
        timer = _Deadline(proc.pid, self.timeout)
        try:
            output, stdout = _collect(proc, log, capture_stdout, render)
            returncode = proc.wait()
        finally:
            timer.cancel()
            self.groups.discard(proc.pid)
        duration = time.monotonic() - start
        log.write(f"exit {returncode} after {duration:.2f}s\n\n")
        log.flush()
        step = StepResult(
            name,
            shown,
            returncode,
            duration,
            timed_out=timer.fired,
            interrupted=self.groups.is_stopping() and returncode != 0,
            output=strip_ansi(output),
        )
        return step, stdout


def _collect(
    proc: subprocess.Popen[str],
    log: IO[str],
    separate: bool,
    render: Callable[[str], str] | None,
) -> tuple[str, str]:
    assert proc.stdout is not None
    if not separate:
        chunks: list[str] = []
        raw: list[str] = []
        for line in proc.stdout:
            if render is not None:
                raw.append(line)
                line = render(line)
            chunks.append(line)
            log.write(line)
        return "".join(chunks), "".join(raw)
    assert proc.stderr is not None
    errs: list[str] = []
    stderr = proc.stderr

    def drain() -> None:
        errs.extend(stderr)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    stdout = proc.stdout.read()
    reader.join()
    err = "".join(errs)
    log.write(err)
    log.write(f"({len(stdout)} characters of output captured)\n")
    return err, stdout


class _Deadline:
    """SIGINT the group at the timeout (terraform stops cleanly), SIGKILL after GRACE more."""

    def __init__(self, pid: int, timeout: float | None) -> None:
        self.pid = pid
        self.fired = False
        self._timers: list[threading.Timer] = []
        if timeout:
            self._arm(timeout, signal.SIGINT)
            self._arm(timeout + GRACE, signal.SIGKILL)

    def _arm(self, delay: float, sig: int) -> None:
        def fire() -> None:
            self.fired = True
            _killpg(self.pid, sig)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()
