data "aws_caller_identity" "current" {}

locals {
  # The Region comes in as a variable: the aws_region data source's `name` warns in provider 6.x and
  # its replacement `region` does not exist in 5.x.
  region     = var.region
  account_id = data.aws_caller_identity.current.account_id
}

locals {
  # Replicating a registry to itself is rejected by ECR; only the same Region in another account is allowed.
  self_destinations = distinct(flatten([
    for rule in var.rules : [
      for d in rule.destinations : "${d.region}/${d.registry_id}"
      if d.region == local.region && d.registry_id == local.account_id
    ]
  ]))

  # The configuration in the ECR API's JSON shape, as tfgen's compiled state has it.
  replication_configuration = length(var.rules) == 0 ? null : {
    rules = [
      for rule in var.rules : merge(
        {
          destinations = [for d in rule.destinations : { region = d.region, registryId = d.registry_id }]
        },
        {
          for key, filters in { repositoryFilters = [for f in rule.repository_filters : { filter = f, filterType = "PREFIX_MATCH" }] } :
          key => filters if length(filters) > 0
        },
      )
    ]
  }
}

resource "aws_ecr_replication_configuration" "this" {
  # The registry has exactly one configuration; with no rules there is nothing to manage.
  count = length(var.rules) > 0 ? 1 : 0

  replication_configuration {
    dynamic "rule" {
      for_each = var.rules

      content {
        dynamic "destination" {
          for_each = rule.value.destinations

          content {
            region      = destination.value.region
            registry_id = destination.value.registry_id
          }
        }

        dynamic "repository_filter" {
          for_each = rule.value.repository_filters

          content {
            filter      = repository_filter.value
            filter_type = "PREFIX_MATCH"
          }
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = length(local.self_destinations) == 0
      error_message = "A destination equals the registry being configured (same region and account); ECR cannot replicate a registry to itself."
    }
  }
}
