# The variables of the autoscaled region stacks (aws-asg, gcp-asg) beyond
# region-variables.tf, kept once here and linked into each as asg-variables.tf. Rendered by
# `iconctl render` for asg regions.

variable "min_size" {
  type        = number
  description = "Minimum number of serving nodes (spec: regions[].min_size)."
}

variable "max_size" {
  type        = number
  description = "Maximum number of serving nodes (spec: regions[].max_size)."
}

variable "min_ready_nodes" {
  type        = number
  description = "The region counts as healthy in DNS while at least this many nodes are ready."
  default     = 1
}

variable "boot_grace_seconds" {
  type        = number
  description = "Seconds a new node may take to restore and start before failing liveness (/healthz) gets it replaced; also its warm-up (spec: health.boot_grace_minutes, or derived from the data volume)."
  default     = 3600

  validation {
    condition     = var.boot_grace_seconds >= 300 && var.boot_grace_seconds <= 86400
    error_message = "boot_grace_seconds must be between 300 and 86400."
  }
}

variable "node_env" {
  type        = map(string)
  description = "The serving nodes' compose .env (COMPOSE_FILE and ICON_* values), written by user data on nodes booting the baked image."
  default     = {}
}

variable "source_env" {
  type        = map(string)
  description = "The source-of-truth node's compose .env (with sync enabled)."
  default     = {}
}
