variable "region" {
  description = "Region of the registry, as the stack's provider is configured (the module reads no Region data source, whose `name` attribute is deprecated in provider 6.x)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", var.region))
    error_message = "region must be a Region name such as us-east-1."
  }
}

variable "grants" {
  description = "Replication grants, one statement each: `sid` (letters and digits, unique), the `source_account_ids` it lets replicate into this registry, and the `repository_prefixes` they may replicate (an empty string for every repository, else repository-name prefixes as replication filters write them: `team-a/` grants `repository/team-a/*`)."
  type = list(object({
    sid                 = string
    source_account_ids  = list(string)
    repository_prefixes = optional(list(string), [""])
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for g in var.grants : can(regex("^[A-Za-z0-9]+$", g.sid))])
    error_message = "Each grant's sid must be a non-empty string of letters and digits."
  }

  validation {
    condition     = length(distinct([for g in var.grants : g.sid])) == length(var.grants)
    error_message = "Each grant's sid must be unique."
  }

  validation {
    condition = alltrue([
      for g in var.grants : length(g.source_account_ids) > 0 && alltrue([for id in g.source_account_ids : can(regex("^[0-9]{12}$", id))])
    ])
    error_message = "Each grant needs at least one source account, each a 12-digit AWS account ID."
  }

  validation {
    # ECR's RepositoryFilterValue: 2-256 characters of its pattern; "" stands for every repository.
    condition = alltrue([
      for g in var.grants : length(g.repository_prefixes) > 0 && alltrue([
        for p in g.repository_prefixes : p == "" || (length(p) >= 2 && length(p) <= 256 && can(regex("^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$", p)))
      ])
    ])
    error_message = "Each grant needs repository_prefixes: \"\" (every repository) or repository-name prefixes of 2-256 lowercase letters, digits, '.', '_', '-' and '/' (ECR's filter pattern)."
  }
}

variable "allow_create_repository" {
  description = "Also grant `ecr:CreateRepository` in every grant, so replication creates missing destination repositories (with the source repository's name); without it they must exist beforehand."
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
