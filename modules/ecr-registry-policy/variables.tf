variable "region" {
  description = "Region of the registry, as the stack's provider is configured (the module reads no Region data source, whose `name` attribute is deprecated in provider 6.x)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", var.region))
    error_message = "region must be a Region name such as us-east-1."
  }
}

variable "source_account_ids" {
  description = "AWS account IDs allowed to replicate into this registry. They share one statement (`grant_sid`), sorted and de-duplicated, so hundreds of accounts fit the 10,240-character policy limit."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.source_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Each source account ID must be a 12-digit AWS account ID."
  }
}

variable "grant_sid" {
  description = "Sid of the statement that grants `source_account_ids` replication into this registry (letters and digits only)."
  type        = string
  default     = "TfgenReplication"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9]+$", var.grant_sid))
    error_message = "grant_sid must be a non-empty string of letters and digits."
  }
}

variable "allow_create_repository" {
  description = "Also grant `ecr:CreateRepository`, so replication creates missing destination repositories; without it they must exist beforehand."
  type        = bool
  default     = true
  nullable    = false
}

variable "additional_statements_json" {
  description = "JSON-encoded list of extra IAM policy statements appended after the replication grant, in order (e.g. `jsonencode([{ Sid = \"PullThroughCache\", ... }])`)."
  type        = string
  default     = "[]"
  nullable    = false

  validation {
    # A JSON text starting with '[' that decodes is an array; each element must be an object.
    condition     = can(regex("^\\s*\\[", var.additional_statements_json)) && can([for s in jsondecode(var.additional_statements_json) : keys(s)])
    error_message = "additional_statements_json must be a JSON-encoded list of statement objects."
  }

  validation {
    # Undecodable JSON is reported by the validation above.
    condition = try(
      length(compact([for s in jsondecode(var.additional_statements_json) : try(tostring(s.Sid), "")])) ==
      length(distinct(compact([for s in jsondecode(var.additional_statements_json) : try(tostring(s.Sid), "")]))),
      true,
    )
    error_message = "The Sids in additional_statements_json must be unique."
  }
}
