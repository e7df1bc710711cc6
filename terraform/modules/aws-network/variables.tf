variable "name" {
  type        = string
  description = "Name prefix of the resources, e.g. icon-api-us-east-1."
}

variable "vpc_id" {
  type        = string
  description = "Reuse this existing VPC instead of creating one; then subnet_ids is required."
  default     = null
}

variable "subnet_ids" {
  type        = list(string)
  description = "Public subnets of the existing VPC to use (only with vpc_id)."
  default     = []
}

variable "cidr_block" {
  type        = string
  description = "IPv4 range of a new VPC."
  default     = "10.42.0.0/16"
}

variable "zone_count" {
  type        = number
  description = "How many availability zones a new VPC spans (one public subnet each)."
  default     = 3

  validation {
    condition     = var.zone_count >= 1 && var.zone_count <= 6
    error_message = "zone_count must be between 1 and 6."
  }
}

variable "zones" {
  type        = list(string)
  description = "Availability zone names to use, e.g. [\"us-east-1a\", \"us-east-1b\"]; empty: the region's zones a to f that need no opt-in, first zone_count of them."
  default     = []
}

variable "flow_log_retention_days" {
  type        = number
  description = "Days to keep the VPC flow logs (rejected traffic) in CloudWatch Logs; 0 disables flow logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
