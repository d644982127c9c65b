variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "us-east-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region: an AWS region code such as us-east-1."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the platform; also the Kafka topic prefix qsr.<namespace>."
  type        = string
  default     = "qsr"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace: a DNS-1123 label."
  }
}

variable "image_tag" {
  description = "Tag of the platform image in ECR to deploy (immutable; never latest)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag: a valid tag other than 'latest'."
  }
}

variable "eks_public_access_cidrs" {
  description = "CIDRs (office, CI) allowed to the public EKS API endpoint; empty keeps the endpoint private."
  type        = list(string)
  default     = []
  validation {
    condition     = !contains(var.eks_public_access_cidrs, "0.0.0.0/0")
    error_message = "eks_public_access_cidrs: never 0.0.0.0/0."
  }
}

variable "otel_endpoint" {
  description = "OTLP/HTTP endpoint for traces; empty disables export."
  type        = string
  default     = ""
  validation {
    condition     = var.otel_endpoint == "" || can(regex("^https?://", var.otel_endpoint))
    error_message = "otel_endpoint: empty or an http(s):// URL."
  }
}

variable "tags" {
  description = "Organisation tags: owner and cost-center are required."
  type        = map(string)
  validation {
    condition     = alltrue([for key in ["owner", "cost-center"] : contains(keys(var.tags), key)])
    error_message = "tags: must contain the keys owner and cost-center."
  }
}
