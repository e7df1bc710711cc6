variable "name" {
  type        = string
  description = "Name prefix (GCP naming rules), e.g. icon-api-asia-northeast1."
}

variable "project" {
  type        = string
  description = "GCP project ID."
}

variable "instance_group" {
  type        = string
  description = "Instance group of the nodes, with named ports proxy and agent."
}

variable "health_check_id" {
  type        = string
  description = "Health check (GET /readyz on the agent port) of the backends."
}

variable "domain" {
  type        = string
  description = "Public hostname of the service; on the managed certificate."
}

variable "regional_hostname" {
  type        = string
  description = "This region's hostname; on the managed certificate and pointed at the load balancer."
}

variable "publish_domain" {
  type        = bool
  description = "Also point the domain itself at this load balancer (a one-region deployment)."
  default     = false
}

variable "dns_managed_zone" {
  type        = string
  description = "Cloud DNS managed zone for the records; empty creates none (point them elsewhere)."
  default     = ""
}

variable "agent_port" {
  type        = number
  description = "Port of the agent listener for the global load balancer's health checks."
  default     = 9900
}

variable "health_checker_cidrs" {
  type        = list(string)
  description = "CIDRs of the global load balancer's health checkers allowed to the agent listener (enforced by a Cloud Armor policy); empty: no agent listener. 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.health_checker_cidrs, "0.0.0.0/0")
    error_message = "health_checker_cidrs must not contain 0.0.0.0/0."
  }
}
