data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
}

locals {
  # ECR accepts only a role of the registry's own account.
  custom_role_account_id = var.custom_role_arn == null ? null : split(":", var.custom_role_arn)[4]
  with_exclusion         = endswith(var.image_tag_mutability, "_WITH_EXCLUSION")
}

resource "aws_ecr_repository_creation_template" "this" {
  prefix               = var.prefix
  description          = var.description
  applied_for          = var.applied_for
  image_tag_mutability = var.image_tag_mutability
  custom_role_arn      = var.custom_role_arn
  lifecycle_policy     = var.lifecycle_policy_json
  repository_policy    = var.repository_policy_json
  resource_tags        = var.resource_tags

  encryption_configuration {
    encryption_type = var.encryption.type
    kms_key         = var.encryption.kms_key
  }

  dynamic "image_tag_mutability_exclusion_filter" {
    for_each = var.image_tag_mutability_exclusion_filters

    content {
      filter      = image_tag_mutability_exclusion_filter.value.filter
      filter_type = image_tag_mutability_exclusion_filter.value.filter_type
    }
  }

  lifecycle {
    precondition {
      condition     = local.custom_role_account_id == null || local.custom_role_account_id == local.account_id
      error_message = "custom_role_arn must be a role in the registry's own account."
    }

    precondition {
      # ECR rejects a *_WITH_EXCLUSION mutability without filters, and filters mean nothing without it.
      condition     = local.with_exclusion == (length(var.image_tag_mutability_exclusion_filters) > 0)
      error_message = "image_tag_mutability_exclusion_filters are needed with, and only with, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION."
    }
  }
}
