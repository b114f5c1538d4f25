terraform {
  # optional() attributes with defaults need Terraform 1.3.
  required_version = ">= 1.3.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.10.0 added the template's image_tag_mutability_exclusion_filter block (and 6.8.0 the
      # *_WITH_EXCLUSION values).
      version = ">= 6.10.0"
    }
  }
}
