variable "region" {
  description = "Region of the registry, as the stack's provider is configured (the module reads no Region data source, whose `name` attribute is deprecated in provider 6.x)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", var.region))
    error_message = "region must be a Region name such as us-east-1."
  }
}

variable "rules" {
  description = "Replication rules, in order. Each rule copies the repositories whose names start with one of `repository_filters` (every repository when the list is empty) to each destination registry (`region`, `registry_id` = 12-digit account ID). An empty list creates nothing."
  type = list(object({
    destinations = list(object({
      region      = string
      registry_id = string
    }))
    repository_filters = optional(list(string), [])
  }))
  default  = []
  nullable = false

  # Limits and patterns from the ECR API (PutReplicationConfiguration), the user guide and the
  # Terraform AWS provider (the stricter binds; each message says which), so a bad value fails at
  # plan time instead of at apply time.
  validation {
    condition     = length(var.rules) <= 10
    error_message = "A replication configuration holds at most 10 rules (Terraform AWS provider `rule` MaxItems; the ECR API allows 25)."
  }

  validation {
    condition     = alltrue([for rule in var.rules : length(rule.destinations) >= 1 && length(rule.destinations) <= 25])
    error_message = "Each rule needs between 1 and 25 destinations (Terraform AWS provider `destination` MaxItems; the ECR API allows 100)."
  }

  validation {
    # ECR counts unique destinations across all rules, which no schema can express.
    condition     = length(distinct(flatten([for rule in var.rules : [for d in rule.destinations : "${d.region}/${d.registry_id}"]]))) <= 25
    error_message = "A replication configuration allows at most 25 unique destinations (region, registry_id) across all rules (ECR User Guide)."
  }

  validation {
    condition     = alltrue(flatten([for rule in var.rules : [for d in rule.destinations : can(regex("^[0-9]{12}$", d.registry_id))]]))
    error_message = "Each destination registry_id must be a 12-digit AWS account ID."
  }

  validation {
    # The provider's Region check (stricter than the API's [0-9a-z-]{2,25}: it refuses eusc-de-east-1).
    condition     = alltrue(flatten([for rule in var.rules : [for d in rule.destinations : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", d.region)) && length(d.region) <= 25]]))
    error_message = "Each destination region must be a Region name such as us-east-1 that the Terraform AWS provider accepts (two letters, words, a number of one or two digits; at most 25 characters)."
  }

  validation {
    condition     = alltrue([for rule in var.rules : length(rule.repository_filters) <= 100])
    error_message = "Each rule holds at most 100 repository filters."
  }

  validation {
    condition     = alltrue(flatten([for rule in var.rules : [for f in rule.repository_filters : length(f) >= 2 && length(f) <= 256]]))
    error_message = "Each repository filter must be 2 to 256 characters long."
  }

  validation {
    condition     = alltrue(flatten([for rule in var.rules : [for f in rule.repository_filters : can(regex("^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$", f))]]))
    error_message = "Each repository filter must be a repository-name prefix: lowercase letters, digits, '.', '_', '-' and '/' between path components (no wildcards, no leading or double '/')."
  }
}
