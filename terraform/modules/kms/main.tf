# One customer-managed KMS key per purpose (EKS secrets, MSK, Aurora, ElastiCache, logs, ECR,
# state), rotated yearly, with a key policy that names its users instead of delegating "kms:*".

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  admin_actions = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags", "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]
  use_actions = [
    "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
  ]
  grant_actions = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:a key policy's Resource can only be the key itself, written "*"; principals and actions are named
  #checkov:skip=CKV_AWS_356:a key policy's Resource can only be the key itself, written "*"; principals and actions are named
  # In a key policy "Resource" can only be the key itself, which AWS spells "*".
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = local.admin_actions
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  statement {
    sid       = "AccountPrincipalsUseTheKeyThroughIam"
    actions   = concat(local.use_actions, local.grant_actions)
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  dynamic "statement" {
    for_each = length(var.role_principals) > 0 ? [1] : []
    content {
      sid       = "ServiceLinkedRolesUseTheKey"
      actions   = concat(local.use_actions, local.grant_actions)
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = var.role_principals
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.service_principals) > 0 ? [1] : []
    content {
      sid       = "AwsServicesUseTheKey"
      actions   = concat(local.use_actions, local.grant_actions)
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = var.service_principals
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = merge(var.tags, { Name = var.name })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
