variable "name" {
  description = "Name prefix of every network resource, e.g. qsr-prod."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: lowercase letters, digits and '-', 2 to 31 characters, starting with a letter."
  }
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC; a /16 gives three /24 public and three /20 private subnets."
  type        = string
  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 16
    error_message = "cidr_block: a valid IPv4 CIDR of size /16 or larger."
  }
}

variable "availability_zones" {
  description = "The three availability zones (names, e.g. us-east-1a) of the subnets."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) == 3 && length(distinct(var.availability_zones)) == 3
    error_message = "availability_zones: exactly three distinct zone names."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, not zone-redundant): dev only."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the VPC flow logs."
  type        = number
  default     = 365
  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: one of CloudWatch's values of at least a year (365, 400, 545, 731, ...)."
  }
}

variable "logs_kms_key_arn" {
  description = "KMS key that encrypts the flow log group."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
}
