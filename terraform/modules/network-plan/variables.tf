variable "cidr_block" {
  type        = string
  description = "IPv4 range of the whole network, e.g. 10.42.0.0/16."
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.cidr_block)) && tonumber(split("/", var.cidr_block)[1]) >= 8 && tonumber(split("/", var.cidr_block)[1]) <= 24
    error_message = "cidr_block must be an IPv4 CIDR with a prefix length from /8 to /24, e.g. 10.42.0.0/16."
  }
}

variable "zones" {
  type        = list(string)
  description = "Zones to spread subnets over, in order; each gets one public subnet."

  validation {
    condition     = length(var.zones) >= 1 && length(var.zones) <= 8 && length(distinct(var.zones)) == length(var.zones)
    error_message = "zones must list 1 to 8 distinct zone names."
  }
}

variable "subnet_prefix_length" {
  type        = number
  description = "Prefix length of each subnet, e.g. 20 for 4096 addresses. Must be longer than the network's."
  default     = 20

  validation {
    condition     = var.subnet_prefix_length >= 16 && var.subnet_prefix_length <= 28
    error_message = "subnet_prefix_length must be between 16 and 28."
  }
}
