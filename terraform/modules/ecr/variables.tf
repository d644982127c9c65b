variable "name" {
  description = "Repository name, e.g. qsr-platform."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/-]{1,255}$", var.name))
    error_message = "name: lowercase ECR repository name."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the images."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
