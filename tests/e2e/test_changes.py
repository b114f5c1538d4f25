"""Spec changes on an applied organisation: the plan summary is exactly the compiled difference,
apply makes the live registries equal the compiled state, verify says in sync."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e import delta, specs
from tests.e2e.harness import World, normalised


def applied(world: World, text: str) -> list[dict[str, object]]:
    """Render, plan and apply `text`; returns its compiled state."""
    world.write_spec(text)
    world.render()
    plan = world.plan()
    assert plan.code == 2, plan.why()
    run = world.apply()
    assert run.code == 0, run.why()
    return world.compiled()


def change(
    world: World, old: list[dict[str, object]], after: str, case: str
) -> list[dict[str, object]]:
    """From the applied state compiled as `old` to `after`: the plan states exactly the compiled
    difference, apply makes the live registries equal it (the registries that left are empty),
    verify says in sync. Returns the new compiled state."""
    world.write_spec(after)
    world.render()
    new = world.compiled()
    plan = world.plan()
    assert plan.code == 2, f"{case}: {plan.why()}"
    assert plan.report is not None
    expected = delta.expected(old, new)
    assert delta.observed(plan.report) == expected, case
    world.record(case, plan, expected)
    run = world.apply()
    assert run.code == 0, f"{case}: {run.why()}"
    assert normalised(world.live(new)) == normalised(new), case
    gone = [
        r
        for r in old
        if (r["account"], r["region"]) not in {(n["account"], n["region"]) for n in new}
    ]
    for registry in world.live(gone):
        assert registry["replication_configuration"] is None, registry
        assert registry["registry_policy"] is None, registry
        assert registry["creation_templates"] == [], registry
    code, verdict = world.verify()
    assert code == 0, (case, verdict)
    return new


TWO_RULES = specs.spec(
    """\
    replication:
      - name: build-to-prod
        from: {account: build, regions: [us-east-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
      - name: build-dr
        from: {account: build, regions: [us-east-1]}
        to: [{account: build, regions: [us-west-2]}]
    """
)


def _edit(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, (old, text)
        return text.replace(old, new, 1)

    return edit


# One change after another on one applied organisation (each applied before the next is made),
# so the baseline is applied once: every step costs a plan and an apply of what it touches.
STEPS: list[tuple[str, Callable[[str], str]]] = [
    (
        "add-destination-region",
        _edit("regions: [us-east-1]}]", "regions: [us-east-1, eu-west-1]}]"),
    ),
    (
        "add-account",
        _edit(
            "eu-west-1]}]",
            "eu-west-1]}, {account: staging, regions: [us-east-1]}]",
        ),
    ),
    ("change-filters", _edit("filters: [team-a/]", "filters: [team-a/, base/]")),
    (
        "add-template",
        lambda text: (
            text
            + "creation_templates:\n"
            + "  - accounts: [prod]\n"
            + "    prefix: team-a\n"
            + "    image_tag_mutability: IMMUTABLE\n"
        ),
    ),
    ("wide-grants", _edit("accounts:\n", "  grants: {scope: wide}\naccounts:\n")),
    (
        "replicate-only",
        _edit(
            f'prod: {{id: "{specs.PROD}"}}',
            f'prod: {{id: "{specs.PROD}", grants: {{create_repositories: false}}}}',
        ),
    ),
]


# The spec after each step: every step adds one change to the previous one's.
TEXTS: dict[str, str] = {}
for _case, _edit_step in STEPS:
    TEXTS[_case] = _edit_step(list(TEXTS.values())[-1] if TEXTS else specs.BASE)


def test_spec_changes_one_after_another(world: World) -> None:
    """Every step of STEPS in order on one organisation, then a re-plan of every stack. One test,
    not one per step on a shared world: in CI the steps of such an xdist group did not all run in
    order on one world (a later step passed, an earlier one then met a template it had not made),
    and a step's baseline must be exactly the previous step's result."""
    state = applied(world, specs.BASE)
    for case, text in TEXTS.items():
        state = change(world, state, text, case)
    again = world.plan("--all")  # Terraform asked about every stack
    assert again.code == 0, again.why()


def test_remove_a_rule(world: World) -> None:
    old = applied(world, TWO_RULES)
    change(world, old, specs.BASE, "remove-a-rule")
    assert (again := world.plan("--all")).code == 0, again.why()


SHARED = specs.spec(
    """\
    replication:
      - name: build-to-prod
        from: {account: build, regions: [us-east-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
      - name: staging-to-prod
        from: {account: staging, regions: [us-east-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
    """
)


def test_push_a_destinations_grant_past_a_statement_boundary(world: World) -> None:
    """build and staging share prod's team-a/ statement; staging's filters grow, so it moves to
    a statement of its own. The plan says exactly that: the new statement, staging's new access,
    nothing about build's statement but the principal it loses (no grant lost or gained)."""
    before = applied(world, SHARED)
    (shared,) = next(r for r in before if r["account"] == "prod")["registry_policy"]["Statement"]
    assert len(shared["Principal"]["AWS"]) == 2
    moved = SHARED.replace(
        "from: {account: staging, regions: [us-east-1]}\n    to: [{account: prod, regions: "
        "[us-east-1]}]\n    filters: [team-a/]",
        "from: {account: staging, regions: [us-east-1]}\n    to: [{account: prod, regions: "
        "[us-east-1]}]\n    filters: [team-a/, base]",
    )
    assert moved != SHARED
    world.write_spec(moved)
    world.render()
    after = world.compiled()
    statements = next(r for r in after if r["account"] == "prod")["registry_policy"]["Statement"]
    # build's statement keeps its Sid and its text, less staging; staging's has a new Sid
    (kept,) = [s for s in statements if s["Sid"] == shared["Sid"]]
    assert kept == {**shared, "Principal": {"AWS": [f"arn:aws:iam::{specs.BUILD}:root"]}}
    (new,) = [s for s in statements if s["Sid"] != shared["Sid"]]
    plan = world.plan()
    assert plan.code == 2, plan.why()
    assert plan.report is not None
    facts = delta.expected(before, after)
    prod = f"{specs.PROD}/us-east-1"
    assert {f for f in facts[prod] if not f.startswith("access")} == {f"sid+ {new['Sid']}"}
    assert {f for f in facts[prod] if f.startswith("access")} == {
        f"access+ arn:aws:iam::{specs.STAGING}:root -> repository/base* "
        "(ecr:CreateRepository, ecr:ReplicateImage)"
    }
    assert delta.observed(plan.report) == facts
    world.record("grant-past-a-statement-boundary", plan, facts)
    run = world.apply()
    assert run.code == 0, run.why()
    assert normalised(world.live(after)) == normalised(after)
    code, verdict = world.verify()
    assert code == 0, verdict
    assert (again := world.plan("--all")).code == 0, again.why()
