output "cluster_name" {
  description = "EKS cluster name: aws eks update-kubeconfig --name <this> --region <region>."
  value       = module.platform.cluster_name
}

output "image_repository" {
  description = "ECR repository to push the platform image to before the release is applied."
  value       = module.platform.image_repository
}

output "kafka_bootstrap" {
  description = "MSK SASL/IAM bootstrap brokers the services use."
  value       = module.platform.kafka_bootstrap
}

output "postgres_host" {
  description = "Aurora writer endpoint."
  value       = module.platform.postgres_host
}

output "postgres_master_secret_arn" {
  description = "Secrets Manager ARN of the Aurora master credentials (sync into the qsr-postgres Secret)."
  value       = module.platform.postgres_master_secret_arn
}

output "redis_host" {
  description = "ElastiCache primary endpoint."
  value       = module.platform.redis_host
}

output "redis_auth_secret_arn" {
  description = "Secrets Manager ARN of the ElastiCache AUTH token (sync into the qsr-redis Secret)."
  value       = module.platform.redis_auth_secret_arn
}

output "irsa_role_arns" {
  description = "IRSA role ARN per component, as annotated on the chart's service accounts."
  value       = module.platform.irsa_role_arns
}

output "release_status" {
  description = "Status of the qsr-platform Helm release."
  value       = module.release.release_status
}
