variable "prefix" {
  description = "Repository-name prefix the template applies to (a trailing `/` is implied), or `ROOT` for every repository that no other template matches."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.prefix) >= 2 && length(var.prefix) <= 256
    error_message = "prefix must be 2 to 256 characters long (2 is the Terraform AWS provider's minimum; the ECR API allows 1)."
  }

  validation {
    # The API's Prefix pattern; `\.` and `\/` are written for HCL strings and RE2.
    condition     = can(regex("^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)$", var.prefix))
    error_message = "prefix must be ROOT or a repository-name prefix: lowercase path components of letters and digits separated by '.', '_', '__' or dashes, joined by '/', with an optional trailing '/'."
  }
}

variable "description" {
  description = "Description of the template (at most 255 characters)."
  type        = string
  default     = null

  validation {
    condition     = var.description == null || try(length(var.description) <= 255, false)
    error_message = "description must be at most 255 characters long (the Terraform AWS provider's limit; the ECR API allows 256)."
  }
}

variable "applied_for" {
  description = "Features that create repositories with this template: `REPLICATION`, `PULL_THROUGH_CACHE`, `CREATE_ON_PUSH`."
  type        = list(string)
  default     = ["REPLICATION"]
  nullable    = false

  validation {
    condition     = length(var.applied_for) >= 1
    error_message = "applied_for needs at least one value (the Terraform AWS provider requires one)."
  }

  validation {
    # The provider keeps a set: a repeated value would show as a difference on every plan.
    condition     = length(distinct(var.applied_for)) == length(var.applied_for)
    error_message = "applied_for must not repeat a value."
  }

  validation {
    condition     = alltrue([for v in var.applied_for : contains(["REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH"], v)])
    error_message = "applied_for values must be REPLICATION, PULL_THROUGH_CACHE or CREATE_ON_PUSH."
  }
}

variable "image_tag_mutability" {
  description = "Tag mutability of the repositories created: `MUTABLE`, `IMMUTABLE`, or (with `image_tag_mutability_exclusion_filters`, module ecr-creation-template-exclusions only) `IMMUTABLE_WITH_EXCLUSION` or `MUTABLE_WITH_EXCLUSION`."
  type        = string
  default     = "MUTABLE"
  nullable    = false

  validation {
    condition     = contains(["MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"], var.image_tag_mutability)
    error_message = "image_tag_mutability must be MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION."
  }
}

variable "image_tag_mutability_exclusion_filters" {
  description = "Tag filters exempt from `image_tag_mutability` (1 to 5, with a `*_WITH_EXCLUSION` mutability only): `filter` is 1 to 128 letters, digits, `.`, `_`, `-` and at most two `*` wildcards; `filter_type` is `WILDCARD`. Needs hashicorp/aws >= 6.10, so only module ecr-creation-template-exclusions accepts it."
  type = list(object({
    filter      = string
    filter_type = optional(string, "WILDCARD")
  }))
  default  = []
  nullable = false

  validation {
    condition     = length(var.image_tag_mutability_exclusion_filters) <= 5
    error_message = "image_tag_mutability_exclusion_filters holds at most 5 filters (the ECR API's limit)."
  }

  validation {
    # The ECR API's pattern and length; the provider also allows at most two wildcards.
    condition     = alltrue([for f in var.image_tag_mutability_exclusion_filters : can(regex("^[0-9a-zA-Z._*-]{1,128}$", f.filter)) && length(regexall("[*]", f.filter)) <= 2])
    error_message = "Each exclusion filter must be 1 to 128 letters, digits, '.', '_', '-' or '*' (ECR API) with at most two '*' (Terraform AWS provider)."
  }

  validation {
    condition     = alltrue([for f in var.image_tag_mutability_exclusion_filters : f.filter_type == "WILDCARD"])
    error_message = "Each exclusion filter_type must be WILDCARD (the only type the ECR API has)."
  }
}

variable "encryption" {
  description = "Encryption of the repositories created: `type` is `AES256` (default), `KMS` or `KMS_DSSE`; `kms_key` is a KMS key ARN, only with the KMS types (AWS-managed key when omitted)."
  type = object({
    type    = optional(string, "AES256")
    kms_key = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["AES256", "KMS", "KMS_DSSE"], var.encryption.type)
    error_message = "encryption.type must be AES256, KMS or KMS_DSSE."
  }

  validation {
    condition     = var.encryption.kms_key == null || contains(["KMS", "KMS_DSSE"], var.encryption.type)
    error_message = "encryption.kms_key is allowed only when encryption.type is KMS or KMS_DSSE."
  }

  validation {
    condition     = var.encryption.kms_key == null || try(length(var.encryption.kms_key) <= 2048 && can(regex("^arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-z0-9-]+$", var.encryption.kms_key)), false)
    error_message = "encryption.kms_key must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "lifecycle_policy_json" {
  description = "Lifecycle policy (JSON text, at most 30,720 characters) given to the repositories created."
  type        = string
  default     = null

  validation {
    condition     = var.lifecycle_policy_json == null || try(can(jsondecode(var.lifecycle_policy_json)) && length(var.lifecycle_policy_json) <= 30720, false)
    error_message = "lifecycle_policy_json must be JSON text of at most 30,720 characters."
  }
}

variable "repository_policy_json" {
  description = "Repository policy (JSON text, at most 10,240 characters) given to the repositories created."
  type        = string
  default     = null

  validation {
    condition     = var.repository_policy_json == null || try(can(jsondecode(var.repository_policy_json)) && length(var.repository_policy_json) <= 10240, false)
    error_message = "repository_policy_json must be JSON text of at most 10,240 characters."
  }
}

variable "resource_tags" {
  description = "Tags given to the repositories created (at most 50; keys of 1 to 128 characters, values of at most 256; no `aws:` prefix)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.resource_tags) <= 50
    error_message = "resource_tags holds at most 50 tags (the AWS tagging limit)."
  }

  validation {
    condition     = alltrue([for k, v in var.resource_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "Each tag key must be 1 to 128 characters and not start with aws:, each value at most 256 characters (ECR API)."
  }
}

variable "custom_role_arn" {
  description = "ARN of an IAM role in this account that ECR assumes to create repositories; needed for KMS encryption or resource tags (ECR uses its service-linked role when omitted)."
  type        = string
  default     = null

  validation {
    # RE2's \w is ASCII: IAM role names and paths are ASCII letters, digits and +=,.@_-/.
    condition     = var.custom_role_arn == null || try(length(var.custom_role_arn) <= 2048 && can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,576}$", var.custom_role_arn)), false)
    error_message = "custom_role_arn must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>, ASCII) of at most 2,048 characters (ECR API)."
  }
}
