output "state_bucket" {
  description = "S3 bucket for envs/*: terraform init -backend-config=\"bucket=<this>\"."
  value       = aws_s3_bucket.state.bucket
}

output "lock_table" {
  description = "DynamoDB table that locks the state."
  value       = aws_dynamodb_table.lock.name
}

output "state_kms_key_arn" {
  description = "KMS key that encrypts state and lock table."
  value       = module.state_key.key_arn
}
