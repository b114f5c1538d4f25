output "registry_id" {
  description = "ID of the registry (the AWS account ID) whose policy this module manages; null when no policy is created."
  value       = try(aws_ecr_registry_policy.this[0].registry_id, null)
}

output "policy" {
  description = "The registry policy document as the JSON string sent to ECR; null when no policy is created."
  value       = local.create ? local.policy : null
}

output "policy_length" {
  description = "Length of `policy` in characters (PutRegistryPolicy accepts at most 10,240); 0 when no policy is created."
  value       = local.create ? length(local.policy) : 0
}
