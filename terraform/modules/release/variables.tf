variable "namespace" {
  description = "Namespace of the platform; must equal the irsa module's namespace (trust and topic prefix)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace: a DNS-1123 label."
  }
}

variable "chart_path" {
  description = "Path of charts/qsr-platform (or an OCI reference of a published chart)."
  type        = string
}

variable "image_repository" {
  description = "ECR repository URL of the platform image."
  type        = string
}

variable "image_tag" {
  description = "Immutable image tag to run (ECR tags are immutable)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag: a valid tag other than 'latest'."
  }
}

variable "kafka_bootstrap" {
  description = "MSK SASL/IAM bootstrap brokers (host:9098,...)."
  type        = string
}

variable "postgres_secret_name" {
  description = "Kubernetes Secret with one SQLAlchemy URL per service (keys identity-database-url, ordering-database-url, hub-database-url), built from the Aurora endpoint and Secrets Manager credentials."
  type        = string
  default     = "qsr-postgres"
}

variable "redis_secret_name" {
  description = "Kubernetes Secret with key url = rediss://:<AUTH token>@<ElastiCache endpoint>:6379/0."
  type        = string
  default     = "qsr-redis"
}

variable "vpc_cidr_block" {
  description = "VPC CIDR: where the EKS API endpoint, MSK, Aurora and ElastiCache are (NetworkPolicy egress)."
  type        = string
  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0))
    error_message = "vpc_cidr_block: a valid IPv4 CIDR."
  }
}

variable "irsa_role_arns" {
  description = "IRSA role ARN per component (irsa module output role_arns)."
  type        = map(string)
}

variable "otel_endpoint" {
  description = "OTLP/HTTP endpoint of the trace collector (e.g. the ADOT collector service); empty disables export."
  type        = string
  default     = ""
}
