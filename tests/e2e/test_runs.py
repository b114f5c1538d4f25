"""The runner's promises with the real provider: a stale saved plan is refused, and Ctrl-C during a
real apply exits 130 and leaves no lock object behind in the S3 state bucket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3

from tests.e2e import specs
from tests.e2e.harness import STATE_BUCKET, World
from tests.e2e.test_changes import TWO_RULES


def test_a_stale_saved_plan_is_refused(world: World) -> None:
    world.write_spec(specs.BASE)
    world.render()
    assert (planned := world.plan()).code == 2, planned.why()
    # A same-account rule: the replication stack changes after it was planned, and nothing else
    # (a filter change would also change prod's grant, scoped to the filters).
    world.write_spec(TWO_RULES)
    world.render()
    run = world.apply()
    assert run.code == 1, run.why()
    stacks = run.stacks()
    assert stacks["build/replication"]["status"] == "failed"
    assert stacks["build/replication"]["reason"].startswith("stale plan")
    assert stacks["prod/registry-policy"]["status"] == "ok"  # its plan still holds
    ecr = world.aws.client("ecr", specs.BUILD, "us-east-1")
    assert not ecr.describe_registry().get("replicationConfiguration", {}).get("rules")


MANY = specs.spec(
    """\
    replication:
      - name: build-out
        from: {account: build, regions: [us-east-1, us-west-2, eu-west-1]}
        to:
          - {account: prod, regions: [us-east-1, eu-west-1, eu-central-1]}
          - {account: staging, regions: [us-east-1, eu-west-1, eu-central-1]}
        filters: [team-a/]
    """
)


def _locks() -> list[str]:
    listing = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=STATE_BUCKET)
    return [o["Key"] for o in listing.get("Contents", []) if o["Key"].endswith(".tflock")]


def test_ctrl_c_during_a_real_apply(world: World) -> None:
    world.write_spec(MANY)
    world.render()
    assert (planned := world.plan()).code == 2, planned.why()
    log = world.out / ".tfgen" / "logs" / "prod__registry-policy.log"
    argv = [sys.executable, "-m", "tfgen", "apply", str(world.out), "--auto-approve"]
    argv += ["--terraform", str(world.terraform), "--parallelism", "1"]
    for item in world.backend_config:
        argv += ["--backend-config", item]
    proc = subprocess.Popen(
        argv, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 300
    while not (log.exists() and "Creating..." in log.read_text()):
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the apply never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 130, output
    assert "interrupted" in output
    assert _locks() == []  # terraform released the state lock before exiting
    # Nothing half-done blocks the next run: plan and apply finish the job.
    assert (planned := world.plan()).code == 2, planned.why()
    run = world.apply()
    assert run.code == 0, run.why()
    assert world.verify()[0] == 0
