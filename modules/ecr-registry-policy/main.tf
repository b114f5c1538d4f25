data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # The Region comes in as a variable: the aws_region data source's `name` warns in provider 6.x and
  # its replacement `region` does not exist in 5.x.
  partition  = data.aws_partition.current.partition
  region     = var.region
  account_id = data.aws_caller_identity.current.account_id
}

locals {
  additional_statements = jsondecode(var.additional_statements_json)
  actions               = var.allow_create_repository ? ["ecr:CreateRepository", "ecr:ReplicateImage"] : ["ecr:ReplicateImage"]
  repository_arn        = "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/"

  # One statement per set of repository prefixes, listing every source account that replicates
  # exactly those repositories; the prefix "" grants every repository (repository/*).
  grant_statements = [for g in var.grants : {
    Sid       = g.sid
    Effect    = "Allow"
    Principal = { AWS = [for id in sort(distinct(g.source_account_ids)) : "arn:${local.partition}:iam::${id}:root"] }
    Action    = local.actions
    Resource  = [for p in sort(distinct(g.repository_prefixes)) : "${local.repository_arn}${p}*"]
  }]

  statements = concat(local.grant_statements, local.additional_statements)
  sids       = compact([for s in local.statements : try(tostring(s.Sid), "")])
  policy     = jsonencode({ Version = "2012-10-17", Statement = local.statements })
  create     = length(local.statements) > 0
}

resource "aws_ecr_registry_policy" "this" {
  # The registry has exactly one policy per Region; with no statements there is nothing to manage.
  count = local.create ? 1 : 0

  policy = local.policy

  lifecycle {
    precondition {
      condition     = length(local.policy) <= 10240
      error_message = "The registry policy exceeds the 10,240 characters PutRegistryPolicy accepts."
    }

    precondition {
      condition     = length(local.sids) == length(distinct(local.sids))
      error_message = "Statement Sids must be unique: a grant's sid clashes with a Sid in additional_statements_json."
    }
  }
}
