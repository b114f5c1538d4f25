provider "aws" {
  region = var.region
}

variable "region" {
  description = "Region of the registry that receives replicated repositories."
  type        = string
  default     = "us-west-2"
}

# Repositories that replication creates under prod/ get immutable tags, a lifecycle policy and tags.
# Tags need a custom role (customRoleArn) in real use; this example leaves them out.
module "ecr_creation_template" {
  source = "../../../modules/ecr-creation-template"

  prefix               = "prod"
  description          = "Repositories created by replication under prod/"
  applied_for          = ["REPLICATION"]
  image_tag_mutability = "IMMUTABLE"
  lifecycle_policy_json = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 100 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 100 }
      action       = { type = "expire" }
    }]
  })
}

output "prefix" {
  description = "The template's prefix."
  value       = module.ecr_creation_template.prefix
}
