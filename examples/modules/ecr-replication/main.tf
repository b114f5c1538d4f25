provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the source registry; it must differ from us-west-2 and us-east-2, which rules below replicate to within this account."
  type        = string
  default     = "us-east-1"
}

variable "destination_account_id" {
  description = "Another account that receives `prod` images; its registry policy must grant this account ecr:ReplicateImage (see ../ecr-registry-policy)."
  type        = string
  default     = "444455556666"
}

data "aws_caller_identity" "current" {}

# AWS's documented multi-rule example (registry-settings-examples, "multiple rules"), plus a
# cross-account destination for the prod repositories.
module "ecr_replication" {
  source = "../../../modules/ecr-replication"

  region = var.region
  rules = [
    {
      destinations = [
        { region = "us-west-2", registry_id = data.aws_caller_identity.current.account_id },
        { region = "us-west-2", registry_id = var.destination_account_id },
      ]
      repository_filters = ["prod"]
    },
    {
      destinations       = [{ region = "us-east-2", registry_id = data.aws_caller_identity.current.account_id }]
      repository_filters = ["test"]
    },
  ]
}

output "replication_configuration" {
  description = "The configuration in the ECR API's JSON shape."
  value       = module.ecr_replication.replication_configuration
}
