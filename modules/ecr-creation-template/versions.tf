terraform {
  # optional() attributes with defaults need Terraform 1.3.
  required_version = ">= 1.3.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.61.0 introduced aws_ecr_repository_creation_template.
      version = ">= 5.61.0"
    }
  }
}
