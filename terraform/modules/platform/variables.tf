variable "name" {
  description = "Environment name prefix, e.g. qsr-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: lowercase letters, digits and '-', starting with a letter."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the platform (topic prefix qsr.<namespace>)."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR of the VPC."
  type        = string
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per zone."
  type        = bool
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version."
  type        = string
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to the public EKS endpoint; empty keeps it private."
  type        = list(string)
}

variable "node_groups" {
  description = "EKS managed node groups (see the eks module)."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
  }))
}

variable "msk_broker_instance_type" {
  description = "MSK broker instance type."
  type        = string
}

variable "msk_broker_volume_gib" {
  description = "MSK storage per broker."
  type        = number
}

variable "aurora_instance_class" {
  description = "Aurora instance class."
  type        = string
}

variable "aurora_instance_count" {
  description = "Aurora writer plus readers."
  type        = number
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "cache_node_count" {
  description = "ElastiCache primary plus replicas."
  type        = number
}

variable "deletion_protection" {
  description = "Deletion protection on the stateful stores."
  type        = bool
}

variable "tags" {
  description = "Tags on every resource: must name the owner, the environment and the cost center."
  type        = map(string)
  validation {
    condition     = alltrue([for key in ["owner", "environment", "cost-center"] : contains(keys(var.tags), key)])
    error_message = "tags: must contain the keys owner, environment and cost-center."
  }
}
