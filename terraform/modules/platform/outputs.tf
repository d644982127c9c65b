output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name <this>)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_ca_certificate" {
  description = "Base64 PEM of the cluster CA."
  value       = module.eks.cluster_ca_certificate
}

output "vpc_cidr_block" {
  description = "CIDR of the VPC."
  value       = module.network.vpc_cidr_block
}

output "image_repository" {
  description = "ECR repository URL to push the platform image to."
  value       = module.ecr.repository_url
}

output "kafka_bootstrap" {
  description = "MSK SASL/IAM bootstrap brokers."
  value       = module.msk.bootstrap_brokers_sasl_iam
}

output "postgres_host" {
  description = "Aurora writer endpoint."
  value       = module.aurora.endpoint
}

output "postgres_database" {
  description = "Aurora database name."
  value       = module.aurora.database_name
}

output "postgres_master_secret_arn" {
  description = "Secrets Manager ARN of the Aurora master credentials."
  value       = module.aurora.master_user_secret_arn
}

output "redis_host" {
  description = "ElastiCache primary endpoint."
  value       = module.elasticache.primary_endpoint
}

output "redis_auth_secret_arn" {
  description = "Secrets Manager ARN of the ElastiCache AUTH token."
  value       = module.elasticache.auth_secret_arn
}

output "irsa_role_arns" {
  description = "IRSA role ARN per component."
  value       = module.irsa.role_arns
}
