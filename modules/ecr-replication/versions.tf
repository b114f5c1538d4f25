terraform {
  # optional() attributes with defaults need Terraform 1.3.
  required_version = ">= 1.3.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 3.71.0 added repository_filter and raised rule/destination limits to 10/25.
      version = ">= 3.71.0"
    }
  }
}
