terraform {
  # optional() and nullable need Terraform 1.3.
  required_version = ">= 1.3.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 3.36.0 introduced aws_ecr_registry_policy.
      version = ">= 3.36.0"
    }
  }
}
