"""One applied organisation for an end-to-end test: a spec, its rendered tree, tfgen's commands run
in-process against the moto server through the real hashicorp/aws provider, and the live state.

`World` is what a test drives: `write_spec`, `render`, `plan`, `apply`, `destroy`, `verify`,
`compiled` (what `tfgen compile --json` says) and `live` (the same registries read with boto3, in
the same shape), so a test can assert "the live state equals the compiled state" exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from click.testing import CliRunner

from tests.moto_server import MotoAws
from tfgen.cli import main_group
from tfgen.run.model import Status

_NOTHING_TO_SHOW = {Status.OK.value, Status.SKIPPED.value}  # statuses whose log explains nothing

STATE_BUCKET = "tfgen-e2e-state"
# `TFGEN_RECORD_PLANS=1 pytest -m e2e` refreshes
# the real plans the summary's unit tests read (tests/test_run_summary.py).
RECORD_ENV = "TFGEN_RECORD_PLANS"
PLAN_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
# What tfgen's summary reads of `show -json`; the rest (values, state) is left out of fixtures.
_SHOWN_KEYS = ("format_version", "terraform_version", "resource_changes", "configuration")


@dataclass(frozen=True)
class Run:
    """One tfgen command: its exit code, what it printed, and its JSON report when it wrote one."""

    code: int
    output: str  # stdout and stderr, as a terminal shows them
    report: dict[str, Any] | None = None
    stdout: str = ""

    def stacks(self, status: str | None = None) -> dict[str, dict[str, Any]]:
        stacks = (self.report or {}).get("stacks", [])
        return {s["id"]: s for s in stacks if status is None or s["status"] == status}

    def why(self) -> str:
        """For an assertion's message: the whole output and the log of every stack that did not
        succeed (the run's temporary tree is gone by the time a CI failure is read)."""
        parts = [f"exit {self.code}", self.output]
        for stack_id, stack in self.stacks().items():
            if stack["status"] in _NOTHING_TO_SHOW or not stack.get("log"):
                continue
            log = Path(stack["log"])
            text = log.read_text(errors="replace") if log.is_file() else "(no log)"
            parts.append(f"--- {stack_id}: {stack['status']} ({stack.get('reason')})\n{text}")
        return "\n".join(parts)


class World:
    """A spec file, its rendered tree, and tfgen run against moto with one Terraform binary."""

    def __init__(
        self,
        root: Path,
        aws: MotoAws,
        terraform: Path,
        backend_config: Sequence[str],
    ) -> None:
        self.root = root
        self.aws = aws
        self.terraform = terraform
        self.backend_config = tuple(backend_config)
        self.spec = root / "tfgen.yaml"
        self.out = root / "infra"
        self._reports = 0

    # --- tfgen ----------------------------------------------------------------------------------

    def tfgen(self, *args: str, input: str | None = None) -> Run:
        result = CliRunner().invoke(main_group, list(args), input=input, catch_exceptions=False)
        return Run(result.exit_code, result.output, stdout=result.stdout)

    def write_spec(self, text: str) -> None:
        self.spec.write_text(text)

    def render(self, *extra: str) -> Run:
        run = self.tfgen("render", str(self.spec), "--out", str(self.out), *extra)
        assert run.code == 0, run.why()
        return run

    def _run(self, command: str, *extra: str) -> Run:
        self._reports += 1
        report = self.root / f"report-{self._reports}-{command}.json"
        args = [command, str(self.out), "--terraform", str(self.terraform), "--json", str(report)]
        for item in self.backend_config:
            args += ["--backend-config", item]
        run = self.tfgen(*args, *extra)
        data = json.loads(report.read_text()) if report.exists() else None
        return Run(run.code, run.output, data)

    def plan(self, *extra: str) -> Run:
        return self._run("plan", "--detailed-exitcode", *extra)

    def apply(self, *extra: str) -> Run:
        return self._run("apply", "--auto-approve", *extra)

    def destroy(self, *extra: str) -> Run:
        return self._run("destroy", "--auto-approve", *extra)

    def show(self, stack_id: str) -> dict[str, Any]:
        """`terraform show -json` of the stack's saved plan."""
        plan = self.out / ".tfgen" / "plans" / f"{stack_id.replace('/', '__')}.tfplan"
        proc = subprocess.run(
            [str(self.terraform), "show", "-json", "-no-color", str(plan)],
            cwd=self.out / "stacks" / stack_id,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        shown: dict[str, Any] = json.loads(proc.stdout)
        return {k: shown[k] for k in _SHOWN_KEYS if k in shown}

    def record(self, case: str, run: Run, expected: Mapping[str, set[str]]) -> None:
        """With TFGEN_RECORD_PLANS set: keep the real plans of `run` and the facts they must
        state, as a fixture of the summary's unit tests."""
        if not os.environ.get(RECORD_ENV) or run.report is None:
            return
        plans = {s["id"]: self.show(s["id"]) for s in run.report["stacks"] if s["changes"]}
        fixture = {
            "case": case,
            "expected": {k: sorted(v) for k, v in sorted(expected.items())},
            "plans": plans,
        }
        PLAN_FIXTURES.mkdir(parents=True, exist_ok=True)
        text = json.dumps(fixture, indent=1, sort_keys=True) + "\n"
        (PLAN_FIXTURES / f"{case}.json").write_text(text)

    def verify(self) -> tuple[int, dict[str, Any]]:
        run = self.tfgen("verify", str(self.spec), "--json")
        return run.code, json.loads(run.stdout)

    def compiled(self) -> list[dict[str, Any]]:
        run = self.tfgen("compile", str(self.spec), "--json")
        assert run.code == 0, run.why()
        return list(json.loads(run.stdout))

    # --- the live registries --------------------------------------------------------------------

    def live(self, registries: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The registries of `registries` (default: the compiled ones) read with boto3, in the
        shape of `tfgen compile --json`; a registry with nothing configured has all three empty."""
        wanted = self.compiled() if registries is None else registries
        return [self._read(r) for r in wanted]

    def _read(self, registry: Mapping[str, Any]) -> dict[str, Any]:
        ecr = self.aws.client("ecr", registry["account_id"], registry["region"])
        config = ecr.describe_registry().get("replicationConfiguration") or {}
        try:
            policy: Any = json.loads(ecr.get_registry_policy()["policyText"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RegistryPolicyNotFoundException":
                raise
            policy = None
        templates = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
        return {
            **{k: registry[k] for k in ("account", "account_id", "region", "partition")},
            "replication_configuration": {"rules": config["rules"]}
            if config.get("rules")
            else None,
            "registry_policy": policy,
            "creation_templates": [
                {k: v for k, v in t.items() if k not in ("createdAt", "updatedAt")}
                for t in templates
            ],
        }


def normalised(registries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Both sides in one form, keeping every setting: JSON texts parsed (the provider re-encodes
    them), empty filter lists dropped (the API returns [] for none), sets sorted."""

    def rule(r: Mapping[str, Any]) -> dict[str, Any]:
        out = {"destinations": list(r["destinations"])}
        if r.get("repositoryFilters"):
            out["repositoryFilters"] = list(r["repositoryFilters"])
        return out

    def template(t: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(t)
        for key in ("lifecyclePolicy", "repositoryPolicy"):
            if isinstance(out.get(key), str):
                out[key] = json.loads(out[key]) if out[key] else None
            if out.get(key) is None:
                out.pop(key, None)
        out["appliedFor"] = sorted(out.get("appliedFor", []))
        if "resourceTags" in out:
            out["resourceTags"] = sorted(out["resourceTags"], key=lambda tag: tag["Key"])
            if not out["resourceTags"]:
                del out["resourceTags"]
        return out

    result = []
    for r in registries:
        config = r.get("replication_configuration")
        result.append(
            {
                **r,
                "replication_configuration": None
                if config is None
                else {"rules": [rule(x) for x in config["rules"]]},
                "creation_templates": sorted(
                    (template(t) for t in r.get("creation_templates") or []),
                    key=lambda t: t["prefix"],
                ),
            }
        )
    return result
