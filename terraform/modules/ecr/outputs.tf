output "repository_url" {
  description = "Registry/repository the chart's image.repository points at."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the repository."
  value       = aws_ecr_repository.this.arn
}
