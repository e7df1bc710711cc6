variable "behind_global_lb" {
  type        = bool
  description = "Whether the region is an origin of the Cloudflare global load balancer, whose monitors must reach the agents' /readyz."
}

variable "override" {
  type        = list(string)
  description = "Use these ranges instead (null: Cloudflare's published IPv4 ranges behind the global load balancer, none otherwise). 0.0.0.0/0 is refused."
  default     = null

  validation {
    condition     = var.override == null || !contains(coalesce(var.override, []), "0.0.0.0/0")
    error_message = "override must not contain 0.0.0.0/0: list the health checkers' ranges."
  }
}
