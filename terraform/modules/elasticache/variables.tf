variable "name" {
  description = "Replication group id, e.g. qsr-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,39}$", var.name))
    error_message = "name: lowercase letters, digits and '-', 2 to 40 characters, starting with a letter."
  }
}

variable "engine_version" {
  description = "Valkey version."
  type        = string
  default     = "8.0"
  validation {
    condition     = can(regex("^[78]\\.[0-9]+$", var.engine_version))
    error_message = "engine_version: Valkey 7.x or 8.x as MAJOR.MINOR."
  }
}

variable "node_type" {
  description = "Cache node type, e.g. cache.r7g.large."
  type        = string
  default     = "cache.r7g.large"
  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type: an ElastiCache type starting with 'cache.'."
  }
}

variable "node_count" {
  description = "Primary plus replicas; at least 2 so automatic multi-AZ failover has a target."
  type        = number
  default     = 2
  validation {
    condition     = var.node_count >= 2 && var.node_count <= 6
    error_message = "node_count: between 2 and 6."
  }
}

variable "vpc_id" {
  description = "VPC of the cache."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the cache subnet group."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups whose members may connect on 6379 (the EKS cluster security group)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for data at rest and the AUTH secret."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key for the slow-log group."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
