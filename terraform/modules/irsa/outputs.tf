output "role_arns" {
  description = "IRSA role ARN by component (operator, identity, ordering, hub, loyalty, cluster-autoscaler): the chart's serviceAccount annotations."
  value       = { for key, role in aws_iam_role.this : key => role.arn }
}
