variable "name" {
  type        = string
  description = "Load balancer name (at most 32 characters)."

  validation {
    condition     = length(var.name) <= 32
    error_message = "name must be at most 32 characters."
  }
}

variable "target_group_prefix" {
  type        = string
  description = "Base of the target group names (at most 26 characters)."

  validation {
    condition     = length(var.target_group_prefix) <= 26
    error_message = "target_group_prefix must be at most 26 characters."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the targets."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Public subnets, one per zone."
}

variable "domain" {
  type        = string
  description = "Public hostname of the service, e.g. api.example.org; on the certificate."
}

variable "regional_hostname" {
  type        = string
  description = "This region's hostname, e.g. us-east-1.api.example.org; on the certificate and aliased to the load balancer."
}

variable "route53_zone_id" {
  type        = string
  description = "Route 53 hosted zone holding the certificate's validation records and the aliases."
}

variable "publish_domain" {
  type        = bool
  description = "Also alias the domain itself to this load balancer (a one-region deployment without a global load balancer)."
  default     = false
}

variable "backend_port" {
  type        = number
  description = "Port of the nodes' reverse proxy that TLS traffic is forwarded to."
  default     = 80
}

variable "agent_port" {
  type        = number
  description = "Port of the agent; target health checks GET /readyz here."
  default     = 9900
}

variable "health_checker_cidrs" {
  type        = list(string)
  description = "CIDRs of the global load balancer's health checkers (e.g. Cloudflare's ranges) allowed to reach the agent listener; empty: no agent listener. 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.health_checker_cidrs, "0.0.0.0/0")
    error_message = "health_checker_cidrs must not contain 0.0.0.0/0."
  }
}

variable "min_healthy_targets" {
  type        = number
  description = "A zone of the load balancer counts as unhealthy in DNS below this many ready targets (the region's aggregate health)."
  default     = 1
}

variable "deregistration_delay" {
  type        = number
  description = "Seconds a deregistered node keeps serving in-flight requests (connection draining)."
  default     = 60
}

variable "ssl_policy" {
  type        = string
  description = "TLS security policy of the listener."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "access_logs_bucket" {
  type        = string
  description = "S3 bucket for the load balancer's access logs; empty disables them."
  default     = ""
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the load balancer from deletion."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
