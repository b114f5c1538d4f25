provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the destination registry."
  type        = string
  default     = "us-west-2"
}

variable "source_account_ids" {
  description = "Accounts allowed to replicate every repository into this registry."
  type        = list(string)
  default     = ["111122223333"]
}

variable "prod_source_account_ids" {
  description = "Accounts allowed to replicate only repositories whose names start with prod-."
  type        = list(string)
  default     = ["444455556666"]
}

# The destination side of cross-account replication: one statement per set of repository prefixes
# (the AWS User Guide's registry policy examples: every repository, and `repository/prod-*`), and an
# extra statement that lets this registry's pull-through cache import upstream images.
module "ecr_registry_policy" {
  source = "../../../modules/ecr-registry-policy"

  region = var.region
  grants = [
    { sid = "ReplicationAccessCrossAccount", source_account_ids = var.source_account_ids, repository_prefixes = [""] },
    { sid = "ReplicationAccessProd", source_account_ids = var.prod_source_account_ids, repository_prefixes = ["prod-"] },
  ]
  additional_statements_json = jsonencode([
    {
      Sid       = "PullThroughCache"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
      Resource  = ["arn:${data.aws_partition.current.partition}:ecr:${var.region}:${data.aws_caller_identity.current.account_id}:repository/cache/*"]
    },
  ])
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

output "policy" {
  description = "The registry policy JSON."
  value       = module.ecr_registry_policy.policy
}

output "policy_length" {
  description = "Characters used of the 10,240 allowed."
  value       = module.ecr_registry_policy.policy_length
}
