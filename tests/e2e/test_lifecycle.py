"""render → plan → apply → live state == compiled state → verify 0 → re-plan clean → destroy."""

from __future__ import annotations

from tests.e2e import delta
from tests.e2e.harness import World, normalised
from tests.rendering import REPO

HUB = (REPO / "examples" / "hub-and-spoke" / "tfgen.yaml").read_text()


def test_hub_and_spoke_lifecycle(world: World) -> None:
    world.write_spec(HUB.replace("acme-tfstate", "tfgen-e2e-state"))
    world.render()
    compiled = world.compiled()
    plan = world.plan()
    assert plan.code == 2, plan.output
    assert plan.report is not None
    assert delta.observed(plan.report) == delta.expected([], compiled)
    apply = world.apply()
    assert apply.code == 0, apply.output
    assert normalised(world.live()) == normalised(compiled)
    code, verdict = world.verify()
    assert code == 0, verdict
    fast = world.plan()  # every stack in sync, verified live: nothing planned
    assert fast.code == 0, fast.output
    assert fast.report is not None and fast.report["totals"]["in_sync"] == len(fast.stacks())
    again = world.plan("--all")  # and Terraform, asked about every stack, agrees
    assert again.code == 0, again.output
    gone = world.destroy()
    assert gone.code == 0, gone.output
    assert gone.report is not None
    assert delta.observed(gone.report) == delta.expected(compiled, [])
    code, verdict = world.verify()
    assert code == 2
    assert {r["status"] for r in verdict["registries"]} == {"missing"}
