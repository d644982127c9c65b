# Remote state in S3 (encrypted with the state key, versioned) with a DynamoDB lock table; both
# are created once per account by terraform/bootstrap. The bucket name is account-specific:
#   terraform init -backend-config="bucket=<state bucket from bootstrap>"
terraform {
  backend "s3" {
    key            = "qsr-platform/prod/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "qsr-platform-tfstate-lock"
    encrypt        = true
    kms_key_id     = "alias/qsr-platform-tfstate"
  }
}
