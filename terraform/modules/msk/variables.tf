variable "name" {
  description = "Cluster name, e.g. qsr-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,60}$", var.name))
    error_message = "name: lowercase letters, digits and '-', starting with a letter."
  }
}

variable "kafka_version" {
  description = "MSK Kafka version (KRaft-based 3.9.x or newer)."
  type        = string
  default     = "3.9.x"
  validation {
    condition     = can(regex("^(3\\.9|[4-9]\\.[0-9]+)\\.(x|[0-9]+)$", var.kafka_version))
    error_message = "kafka_version: 3.9.x or newer, e.g. 3.9.x or 4.0.x."
  }
}

variable "broker_count" {
  description = "Number of brokers; a multiple of the three zones."
  type        = number
  default     = 3
  validation {
    condition     = var.broker_count >= 3 && var.broker_count % 3 == 0
    error_message = "broker_count: 3, 6, 9, ... (one per zone at least)."
  }
}

variable "broker_instance_type" {
  description = "Broker instance type, e.g. kafka.m7g.large."
  type        = string
  default     = "kafka.m7g.large"
  validation {
    condition     = startswith(var.broker_instance_type, "kafka.")
    error_message = "broker_instance_type: an MSK type starting with 'kafka.'."
  }
}

variable "broker_volume_gib" {
  description = "EBS storage per broker."
  type        = number
  default     = 100
  validation {
    condition     = var.broker_volume_gib >= 10 && var.broker_volume_gib <= 16384
    error_message = "broker_volume_gib: between 10 and 16384."
  }
}

variable "vpc_id" {
  description = "VPC of the brokers."
  type        = string
}

variable "private_subnet_ids" {
  description = "One private subnet per zone for the brokers."
  type        = list(string)
  validation {
    condition     = length(var.private_subnet_ids) == 3
    error_message = "private_subnet_ids: exactly three subnets, one per zone."
  }
}

variable "client_security_group_ids" {
  description = "Security groups whose members may connect on 9098 (the EKS cluster security group)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for data at rest."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key for the broker log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of broker logs."
  type        = number
  default     = 365
  validation {
    condition     = var.log_retention_days >= 365
    error_message = "log_retention_days: at least 365."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
