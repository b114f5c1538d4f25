"""Small specs for the end-to-end tests: few stacks and Regions, since every one is planned and
applied with the real provider (about 5 s of CPU per Terraform command)."""

from __future__ import annotations

from textwrap import dedent

BUILD, PROD, STAGING = "111111111111", "222222222222", "333333333333"

HEAD = dedent(
    f"""\
    version: 1
    defaults:
      role_arn: "arn:aws:iam::{{account_id}}:role/tfgen"
      backend: {{s3: {{bucket: tfgen-e2e-state, region: us-east-1}}}}
    accounts:
      build: {{id: "{BUILD}"}}
      prod: {{id: "{PROD}"}}
      staging: {{id: "{STAGING}"}}
    """
)


def spec(body: str) -> str:
    """HEAD (three accounts, state in moto's S3) plus `body` (replication, templates, ...)."""
    return HEAD + dedent(body)


BASE = spec(
    """\
    replication:
      - name: build-to-prod
        from: {account: build, regions: [us-east-1]}
        to: [{account: prod, regions: [us-east-1]}]
        filters: [team-a/]
    """
)
