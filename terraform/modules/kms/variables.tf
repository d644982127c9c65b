variable "name" {
  description = "Alias of the key (without the alias/ prefix), e.g. qsr-dev-msk."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,250}$", var.name))
    error_message = "name: letters, digits, '/', '_' and '-' only (KMS alias rules)."
  }
}

variable "description" {
  description = "What the key encrypts."
  type        = string
}

variable "service_principals" {
  description = "AWS service principals that encrypt with the key directly (e.g. logs.<region>.amazonaws.com)."
  type        = list(string)
  default     = []
}

variable "role_principals" {
  description = "IAM role ARNs (service-linked roles) that use the key, e.g. the Auto Scaling role for encrypted node volumes."
  type        = list(string)
  default     = []
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion takes effect."
  type        = number
  default     = 30
  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days: between 7 and 30."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
