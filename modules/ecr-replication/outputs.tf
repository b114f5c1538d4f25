output "registry_id" {
  description = "ID of the registry (the AWS account ID) whose replication configuration this module manages; null when `rules` is empty."
  value       = try(aws_ecr_replication_configuration.this[0].registry_id, null)
}

output "replication_configuration" {
  description = "The replication configuration in the ECR API's JSON shape and key spelling (`rules[].destinations[].registryId`, `rules[].repositoryFilters[].filterType`); `repositoryFilters` is omitted for a rule without filters; null when `rules` is empty."
  value       = local.replication_configuration
}

output "rule_count" {
  description = "Number of replication rules."
  value       = length(var.rules)
}
