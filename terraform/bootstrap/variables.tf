variable "region" {
  description = "Region of the state bucket and lock table (envs/*/backend.tf must match)."
  type        = string
  default     = "us-east-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region: an AWS region code such as us-east-1."
  }
}

variable "tags" {
  description = "Tags on every resource: owner and cost-center are required."
  type        = map(string)
  validation {
    condition     = alltrue([for key in ["owner", "cost-center"] : contains(keys(var.tags), key)])
    error_message = "tags: must contain the keys owner and cost-center."
  }
}
