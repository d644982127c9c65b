output "cluster_arn" {
  description = "ARN of the MSK cluster (IAM policies for kafka-cluster:Connect)."
  value       = aws_msk_cluster.this.arn
}

output "cluster_name" {
  description = "Name of the MSK cluster (part of topic and group ARNs)."
  value       = aws_msk_cluster.this.cluster_name
}

output "cluster_uuid" {
  description = "UUID of the MSK cluster (part of topic and group ARNs)."
  value       = aws_msk_cluster.this.cluster_uuid
}

output "bootstrap_brokers_sasl_iam" {
  description = "Comma-separated host:9098 list for SASL/IAM over TLS: the chart's kafka.bootstrap."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_iam
}
