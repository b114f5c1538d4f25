provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the registry that receives replicated repositories."
  type        = string
  default     = "us-west-2"
}

# Repositories that replication creates under prod/ get immutable tags, except `latest` and the
# `dev-` tags, which stay mutable.
module "ecr_creation_template_exclusions" {
  source = "../../../modules/ecr-creation-template-exclusions"

  prefix               = "prod"
  description          = "Repositories created by replication under prod/"
  applied_for          = ["REPLICATION"]
  image_tag_mutability = "IMMUTABLE_WITH_EXCLUSION"
  image_tag_mutability_exclusion_filters = [
    { filter = "latest" },
    { filter = "dev-*" },
  ]
}

output "prefix" {
  description = "The template's prefix."
  value       = module.ecr_creation_template_exclusions.prefix
}
