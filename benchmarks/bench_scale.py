"""Benchmark: `tfgen plan` on an applied organisation, with the real hashicorp/aws provider over moto.

The organisation is shaped like benchmarks/bench_render.py's, at a size Terraform can apply here:
WORKLOADS workload accounts each replicate from us-east-1 and eu-west-1 to their own us-west-2
and eu-central-1 and to backup account (i mod BACKUPS) in us-east-1 and eu-west-1, with 3 prefix
filters; build accounts (one per 20 workloads: a registry has at most 25 destinations) replicate
`base/` from us-east-1 to their workloads' us-east-1, so every workload both sends and receives
and has both stacks. 100 workloads: 207 stacks.

It is provisioned once (render, `tfgen plan`, `tfgen apply`, with --provision-parallelism, default
4: provisioning is compared with nothing), then, in the same run, timed at --parallelism (default 2):

1. the unchanged organisation: `tfgen plan` (only what differs) against `tfgen plan --all`: the
   ratio (target >= 20) and the verdict (both exit 0 with --detailed-exitcode);
2. a change to one account's spec: only the stacks whose files changed are planned;
3. drift in one registry (its registry policy deleted with boto3): only its stack is planned, and
   applying the plan repairs it (verify says in sync).

It also prints the per-stack cost of each Terraform command and of the live read per registry, the
figures docs/pipelines.md turns into runner minutes. It starts its own moto server on 127.0.0.1
(with tests/moto_ext.py's additions) and writes its own Terraform CLI config (the provider from the
filesystem mirror at /opt/tf-plugins, or $TFGEN_TEST_PROVIDER_MIRROR, and a plugin cache); Terraform
keeps local state in each stack. Nothing outside its work directory is written.

    python benchmarks/bench_scale.py [--workloads 100] [--parallelism 2] [--json FILE]

With --json, the figures so far are written after each step, so a run cut short leaves them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import tfenv  # noqa: E402
from tests.moto_server import MotoAws, serving  # noqa: E402

ROLE = "arn:aws:iam::{account_id}:role/tfgen"  # what tests.moto_server assumes
PER_BUILD = 20  # workloads one build account sends to (a registry has at most 25 destinations)
TARGET_RATIO = 20.0


@dataclass(frozen=True)
class Org:
    workloads: int
    backups: int

    @property
    def builds(self) -> int:
        return math.ceil(self.workloads / PER_BUILD)

    @property
    def stacks(self) -> int:
        return 2 * self.workloads + self.backups + self.builds


def workload_id(i: int) -> str:
    return f"{100000000000 + i:012d}"


def generate_spec(org: Org, *, extra_filter: int | None = None) -> str:
    """The organisation's spec; `extra_filter`: that workload also replicates `tools/`."""
    lines = ["version: 1", "defaults:", f'  role_arn: "{ROLE}"', "accounts:"]
    lines += [f'  build-{b:02d}: {{id: "{800000000000 + b:012d}"}}' for b in range(org.builds)]
    lines += [f'  backup-{b:02d}: {{id: "{900000000000 + b:012d}"}}' for b in range(org.backups)]
    lines += [f'  workload-{i:04d}: {{id: "{workload_id(i)}"}}' for i in range(org.workloads)]
    lines.append("replication:")
    for b in range(org.builds):
        members = range(b * PER_BUILD, min(org.workloads, (b + 1) * PER_BUILD))
        lines += [
            f"  - name: build-{b:02d}-out",
            f"    from: {{account: build-{b:02d}, regions: [us-east-1]}}",
            "    to:",
            *(f"      - {{account: workload-{i:04d}, regions: [us-east-1]}}" for i in members),
            "    filters: [base/]",
        ]
    for i in range(org.workloads):
        filters = "team-a/, team-b/, base/" + (", tools/" if i == extra_filter else "")
        lines += [
            f"  - name: workload-{i:04d}-out",
            f"    from: {{account: workload-{i:04d}, regions: [us-east-1, eu-west-1]}}",
            "    to:",
            f"      - {{account: workload-{i:04d}, regions: [us-west-2, eu-central-1]}}",
            f"      - {{account: backup-{i % org.backups:02d}, regions: [us-east-1, eu-west-1]}}",
            f"    filters: [{filters}]",
        ]
    return "\n".join(lines) + "\n"


# --- the AWS API: a moto server in this process -------------------------------------------------


def aws_env(endpoint: str, work: Path) -> dict[str, str]:
    """Only the moto server, with fake credentials; never the user's AWS or Terraform config."""
    mirror = tfenv.find_aws_provider()
    if isinstance(mirror, str) or mirror.mirror is None:
        sys.exit(f"no hashicorp/aws filesystem mirror: {mirror}")
    cli = tfenv.write_cli_config(
        work / "cli.tfrc", {tfenv.AWS: mirror.mirror}, plugin_cache=work / "plugin-cache"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_")) and k not in ("CHECKPOINT_DISABLE",)
    }
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(work / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "no-aws-credentials"),
        TF_CLI_CONFIG_FILE=str(cli),
        TF_PLUGIN_CACHE_DIR=str(work / "plugin-cache"),
        CHECKPOINT_DISABLE="1",
        PYTHONPATH=str(REPO),
    )
    return env


# --- tfgen as a user runs it ----------------------------------------------------------------------


@dataclass
class Run:
    name: str
    code: int
    wall: float
    cpu: float  # user+sys of tfgen and every terraform it started
    stderr: str
    report: dict[str, Any] = field(default_factory=dict)

    def ids(self, action: str) -> set[str]:
        return {s["id"] for s in self.report.get("stacks", []) if s["action"] == action}


class Tfgen:
    def __init__(self, work: Path, env: dict[str, str], terraform: str, parallelism: int) -> None:
        self.work = work
        self.out = work / "out"
        self.spec = work / "tfgen.yaml"
        self.env = env
        self.terraform = terraform
        self.parallelism = parallelism
        self.runs: list[Run] = []

    def __call__(
        self, name: str, *args: str, ok: tuple[int, ...] = (0,), parallelism: int | None = None
    ) -> Run:
        report = self.work / f"report-{len(self.runs):02d}-{name}.json"
        argv = [sys.executable, "-m", "tfgen", *args]
        if args[0] in ("plan", "apply"):
            argv += [str(self.out), "--terraform", self.terraform, "--json", str(report)]
            argv += ["--parallelism", str(parallelism or self.parallelism)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        data = json.loads(report.read_text()) if report.exists() else {}
        run = Run(name, proc.returncode, wall, cpu, proc.stderr, data)
        self.runs.append(run)
        print(f"  {name}: exit {run.code}, {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        if proc.returncode not in ok:
            sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return run

    def render(self) -> Run:
        return self("render", "render", str(self.spec), "--out", str(self.out), "-q")

    def stack_files(self) -> dict[str, dict[str, str]]:
        """stack id → {path: sha256} of its own files, from the manifest."""
        data = json.loads((self.out / "tfgen.manifest.json").read_text())
        return {
            s["id"]: {k: v for k, v in data["files"].items() if k.startswith(s["path"] + "/")}
            for s in data["stacks"]
        }


def command_costs(runs: list[Run]) -> dict[str, float]:
    """Median wall seconds of each terraform command, per stack, over the runs given."""
    by_name: dict[str, list[float]] = {}
    for run in runs:
        for stack in run.report.get("stacks", []):
            for command in stack["commands"]:
                by_name.setdefault(command["name"], []).append(command["duration_s"])
    return {name: statistics.median(values) for name, values in sorted(by_name.items())}


def read_cost(run: Run) -> tuple[int, float]:
    """(registries read, seconds) of a plan's live check, from its message."""
    for line in run.stderr.splitlines():
        if "in sync, verified live (" in line:
            part = line.split("verified live (")[1]
            registries = int(part.split(" ")[0])
            seconds = float(part.split(" read in ")[1].split("s)")[0])
            return registries, seconds
    return 0, 0.0


def bench(
    org: Org,
    work: Path,
    parallelism: int,
    terraform: str,
    provision: int,
    save: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "workloads": org.workloads,
        "stacks": org.stacks,
        "parallelism": parallelism,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "date": time.strftime("%Y-%m-%d"),
    }
    with serving() as endpoint:
        env = aws_env(endpoint, work)
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        tf = Tfgen(work, env, terraform, parallelism)
        tf.spec.write_text(generate_spec(org))
        print(f"provisioning {org.stacks} stacks ({org.workloads} workloads):", flush=True)
        tf.render()
        # Provisioning is not compared with anything: it may use more Terraform processes.
        first = tf("plan-first", "plan", "--detailed-exitcode", ok=(2,), parallelism=provision)
        applied = tf("apply-first", "apply", "--auto-approve", parallelism=provision)
        results["provision"] = {
            "plan_s": first.wall,
            "apply_s": applied.wall,
            "parallelism": provision,
        }
        save(results)

        print("1. the unchanged organisation:", flush=True)
        fast = tf("plan", "plan", "--detailed-exitcode")
        full = tf("plan --all", "plan", "--all", "--detailed-exitcode")
        assert fast.report["totals"]["in_sync"] == org.stacks, fast.stderr
        assert full.ids("plan") == fast.ids("verify") and len(full.ids("plan")) == org.stacks
        registries, read_s = read_cost(fast)
        results["unchanged"] = {
            "plan_s": fast.wall,
            "plan_all_s": full.wall,
            "ratio": full.wall / fast.wall,
            "same_verdict": fast.code == full.code == 0,
            "registries_read": registries,
            "read_s": read_s,
            "plan_cpu_s": fast.cpu,
            "plan_all_cpu_s": full.cpu,
        }
        save(results)

        print("2. one account's spec changes:", flush=True)
        before = tf.stack_files()
        tf.spec.write_text(generate_spec(org, extra_filter=7 % org.workloads))
        tf.render()
        after = tf.stack_files()
        touched = {k for k in after if after[k] != before.get(k)}
        change = tf("plan (change)", "plan", "--detailed-exitcode", ok=(2,))
        assert change.ids("plan") == touched, (change.ids("plan"), touched)
        tf("apply (change)", "apply", "--auto-approve")
        results["change"] = {
            "plan_s": change.wall,
            "planned": sorted(change.ids("plan")),
            "ratio_vs_all": full.wall / change.wall,
        }
        save(results)

        print("3. drift in one registry:", flush=True)
        drifted = 42 % org.workloads
        MotoAws(endpoint).client("ecr", workload_id(drifted)).delete_registry_policy()
        drift = tf("plan (drift)", "plan", "--detailed-exitcode", ok=(2,))
        assert drift.ids("plan") == {f"workload-{drifted:04d}/registry-policy"}, drift.ids("plan")
        repair = tf("apply (repair)", "apply", "--auto-approve")
        verify = tf("verify", "verify", str(tf.spec), "-q")
        results["drift"] = {
            "plan_s": drift.wall,
            "planned": sorted(drift.ids("plan")),
            "ratio_vs_all": full.wall / drift.wall,
            "repair_apply_s": repair.wall,
            "verify_exit": verify.code,
        }
        results["per_stack"] = {
            "first_plan": command_costs([first]),
            "apply": command_costs([applied]),
            "noop_plan": command_costs([full]),
            "first_plan_cpu_s": first.cpu / org.stacks,
            "apply_cpu_s": applied.cpu / org.stacks,
            "noop_plan_cpu_s": full.cpu / org.stacks,
            "read_per_registry_ms": 1000 * read_s / max(registries, 1),
        }
    results["load_after"] = os.getloadavg()[0]
    return results


def show(r: dict[str, Any]) -> None:
    u, c, d, p = r["unchanged"], r["change"], r["drift"], r["per_stack"]
    print(
        f"\n== {r['date']}: {r['stacks']} stacks ({r['workloads']} workloads), parallelism "
        f"{r['parallelism']}, {r['cpus']} CPUs, load {r['load_before']:.1f} -> "
        f"{r['load_after']:.1f}"
    )
    print(
        f"provisioning: plan {r['provision']['plan_s']:.0f} s, apply {r['provision']['apply_s']:.0f} s"
    )
    print(
        f"1. unchanged: tfgen plan {u['plan_s']:.1f} s ({u['registries_read']} registries read in "
        f"{u['read_s']:.1f} s) vs --all {u['plan_all_s']:.1f} s: {u['ratio']:.0f}x "
        f"(target >= {TARGET_RATIO:.0f}x); same verdict (no changes): {u['same_verdict']}"
    )
    print(
        f"2. one account changed: {len(c['planned'])} stacks planned ({', '.join(c['planned'])}) "
        f"in {c['plan_s']:.1f} s: {c['ratio_vs_all']:.0f}x faster than --all"
    )
    print(
        f"3. drift in one registry: {len(d['planned'])} stack planned ({', '.join(d['planned'])}) "
        f"in {d['plan_s']:.1f} s: {d['ratio_vs_all']:.0f}x faster than --all; repaired, verify "
        f"exit {d['verify_exit']}"
    )
    costs = ", ".join(f"{k} {v:.1f} s" for k, v in {**p["first_plan"], **p["apply"]}.items())
    print(
        f"per stack (median wall, parallelism {r['parallelism']}): {costs}; no-change plan: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in p["noop_plan"].items())
    )
    print(
        f"per stack CPU (tfgen + terraform): first plan {p['first_plan_cpu_s']:.1f} s, apply "
        f"{p['apply_cpu_s']:.1f} s, no-change plan {p['noop_plan_cpu_s']:.1f} s; live read "
        f"{p['read_per_registry_ms']:.1f} ms per registry"
    )
    met = u["ratio"] >= TARGET_RATIO and u["same_verdict"] and d["verify_exit"] == 0
    print("targets met" if met else "targets NOT met")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, default=100)
    parser.add_argument("--backups", type=int, default=None, help="default: workloads / 50")
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument(
        "--provision-parallelism", type=int, default=4, help="for the first plan and apply"
    )
    parser.add_argument("--terraform", default=str(tfenv.terraform_on_path() or "terraform"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    org = Org(args.workloads, args.backups or max(1, args.workloads // 50))
    work = Path(tempfile.mkdtemp(prefix="tfgen-bench-scale-"))

    def save(partial: dict[str, Any]) -> None:  # what a run cut short still leaves
        if args.json:
            args.json.write_text(json.dumps(partial, indent=2) + "\n")

    try:
        results = bench(
            org, work, args.parallelism, args.terraform, args.provision_parallelism, save
        )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    show(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    ok = results["unchanged"]["ratio"] >= TARGET_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
