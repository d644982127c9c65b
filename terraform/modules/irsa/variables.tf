variable "name" {
  description = "Prefix of every role and policy name, e.g. qsr-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: lowercase letters, digits and '-', starting with a letter."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the platform (the chart's release namespace); also the topic prefix qsr.<namespace>."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace: a DNS-1123 label."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (eks module output)."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer without https:// (eks module output)."
  type        = string
}

variable "eks_cluster_name" {
  description = "EKS cluster whose node groups the Cluster Autoscaler may resize."
  type        = string
}

variable "msk_cluster_arn" {
  description = "ARN of the MSK cluster."
  type        = string
}

variable "msk_cluster_name" {
  description = "Name of the MSK cluster."
  type        = string
}

variable "msk_cluster_uuid" {
  description = "UUID of the MSK cluster."
  type        = string
}

variable "service_streams" {
  description = "Per service: the streams it produces and consumes (topic qsr.<namespace>.<program>.<stream>)."
  type = map(object({
    produce = list(string)
    consume = list(string)
  }))
  default = {
    identity = { produce = ["guests"], consume = [] }
    ordering = { produce = ["orders"], consume = ["stores"] }
    hub      = { produce = ["pos-checks", "orders"], consume = ["pos-checks", "stores"] }
    loyalty  = { produce = ["loyalty"], consume = ["orders", "stores"] }
  }
  validation {
    condition = alltrue([
      for streams in values(var.service_streams) :
      alltrue([for stream in concat(streams.produce, streams.consume) : can(regex("^[a-z][a-z0-9-]*$", stream))])
    ])
    error_message = "service_streams: stream names are lowercase words joined by '-' (no '*', no '.')."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
