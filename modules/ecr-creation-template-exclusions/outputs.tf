output "prefix" {
  description = "The prefix of the template (also its import ID)."
  value       = aws_ecr_repository_creation_template.this.prefix
}

output "registry_id" {
  description = "ID of the registry (the AWS account ID) that holds the template."
  value       = aws_ecr_repository_creation_template.this.registry_id
}

output "applied_for" {
  description = "Features that use the template, sorted."
  value       = sort(aws_ecr_repository_creation_template.this.applied_for)
}
