output "endpoint" {
  description = "Writer endpoint (host) of the cluster."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Load-balanced reader endpoint (host)."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_rds_cluster.this.port
}

output "database_name" {
  description = "Initial database name."
  value       = aws_rds_cluster.this.database_name
}

output "master_user_secret_arn" {
  description = "Secrets Manager ARN of the RDS-managed master credentials (rotation by RDS)."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "cluster_resource_id" {
  description = "Resource id used in rds-db:connect ARNs for IAM database authentication."
  value       = aws_rds_cluster.this.cluster_resource_id
}
