variable "name" {
  description = "Cluster name, e.g. qsr-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: lowercase letters, digits and '-', 2 to 31 characters, starting with a letter."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version."
  type        = string
  default     = "1.34"
  validation {
    condition     = can(regex("^1\\.(3[2-9])$", var.kubernetes_version))
    error_message = "kubernetes_version: a supported minor such as 1.34 (1.32 or newer)."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR allowed to reach the private API endpoint."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (three zones) for the control plane ENIs and the nodes."
  type        = list(string)
  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids: at least two subnets in different zones."
  }
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach a public API endpoint; empty (the default) keeps the endpoint private."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for cidr in var.public_access_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "public_access_cidrs: valid CIDRs, never 0.0.0.0/0."
  }
}

variable "secrets_kms_key_arn" {
  description = "KMS key for envelope encryption of Kubernetes Secrets."
  type        = string
}

variable "ebs_kms_key_arn" {
  description = "KMS key for the nodes' EBS volumes."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key for the control-plane log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the control-plane logs."
  type        = number
  default     = 365
  validation {
    condition     = var.log_retention_days >= 365
    error_message = "log_retention_days: at least 365."
  }
}

variable "node_disk_gib" {
  description = "Root volume size of every node."
  type        = number
  default     = 50
  validation {
    condition     = var.node_disk_gib >= 20 && var.node_disk_gib <= 1000
    error_message = "node_disk_gib: between 20 and 1000."
  }
}

variable "node_groups" {
  description = "Managed node groups by name; the Cluster Autoscaler scales each between min_size and max_size."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
  }))
  validation {
    condition = alltrue([
      for group in values(var.node_groups) :
      group.min_size >= 1 && group.max_size >= group.min_size && contains(["ON_DEMAND", "SPOT"], group.capacity_type)
    ])
    error_message = "node_groups: min_size >= 1, max_size >= min_size, capacity_type ON_DEMAND or SPOT."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
