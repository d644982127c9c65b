variable "name" {
  description = "Cluster identifier, e.g. qsr-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,50}$", var.name))
    error_message = "name: lowercase letters, digits and '-', starting with a letter."
  }
}

variable "engine_version" {
  description = "Aurora PostgreSQL version, e.g. 16.6."
  type        = string
  default     = "16.6"
  validation {
    condition     = can(regex("^1[5-9]\\.[0-9]+$", var.engine_version))
    error_message = "engine_version: Aurora PostgreSQL 15 or newer, as MAJOR.MINOR (e.g. 16.6)."
  }
}

variable "database_name" {
  description = "Initial database; each service uses its own schema in it."
  type        = string
  default     = "qsr"
  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name: lowercase letters, digits and '_', starting with a letter."
  }
}

variable "instance_class" {
  description = "Instance class of every cluster instance."
  type        = string
  default     = "db.r7g.large"
  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class: an RDS class starting with 'db.'."
  }
}

variable "instance_count" {
  description = "Writer plus readers; 2 or more gives a failover target in another zone."
  type        = number
  default     = 2
  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 15
    error_message = "instance_count: between 1 and 15."
  }
}

variable "backup_retention_days" {
  description = "Automated backup retention."
  type        = number
  default     = 14
  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days: between 7 and 35."
  }
}

variable "backup_vault_retention_days" {
  description = "How long AWS Backup keeps the daily recovery points."
  type        = number
  default     = 35
  validation {
    condition     = var.backup_vault_retention_days >= 7
    error_message = "backup_vault_retention_days: at least 7."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the cluster; turn off deliberately before destroying an environment."
  type        = bool
  default     = true
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the DB subnet group."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups whose members may connect on 5432 (the EKS cluster security group)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the master user secret."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
