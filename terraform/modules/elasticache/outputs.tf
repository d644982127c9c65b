output "primary_endpoint" {
  description = "Primary endpoint host; clients connect with rediss:// (TLS)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "auth_secret_arn" {
  description = "Secrets Manager ARN of the AUTH token."
  value       = aws_secretsmanager_secret.auth.arn
}
