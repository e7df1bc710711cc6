# Rendered by `iconctl render` into global/terraform/terraform.tfvars.json.

variable "name" {
  type        = string
  description = "Deployment name (spec: name)."
}

variable "domain" {
  type        = string
  description = "Public hostname the global load balancer answers for (spec: domain)."
}

variable "zone" {
  type        = string
  description = "Cloudflare zone holding the domain (spec: geo.zone)."
}

variable "steering" {
  type        = string
  description = "geo, dynamic or off (spec: geo.steering)."

  validation {
    condition     = contains(["geo", "dynamic", "off"], var.steering)
    error_message = "steering must be one of: geo, dynamic, off."
  }
}

variable "min_ready_nodes" {
  type        = number
  description = "A region's pool is healthy while at least this many of its listed origins are ready (spec: geo.min_ready_nodes); for a region behind a load balancer its agents apply the same number."
  default     = 1
}

variable "regions" {
  type = list(object({
    name      = string
    cloud     = string
    continent = string
    endpoint  = string
    origins   = optional(list(string), [])
    behind_lb = optional(bool, false)
  }))
  description = "The regions in failover priority order: name, cloud, continent code (NA, SA, EU, ME, AF, AS, OC), endpoint hostname, optionally the addresses of the region's nodes, and behind_lb when the endpoint is the region's load balancer (its pool then asks /region/readyz)."
}

variable "monitor_path" {
  type        = string
  description = "Readiness path of the agent."
  default     = "/readyz"
}

variable "region_monitor_path" {
  type        = string
  description = "Region-aggregate readiness path of the agents, asked through a regional load balancer."
  default     = "/region/readyz"
}

variable "monitor_port" {
  type        = number
  description = "Port of the agent on each origin."
  default     = 9900
}

variable "expected_body" {
  type        = string
  description = "Body of a ready answer."
  default     = "OK"
}

# Operator settings that are not part of the spec.

variable "account_id" {
  type        = string
  description = "Cloudflare account of the monitors and pools; empty: the zone's account."
  default     = ""
}

variable "region_records" {
  type = map(object({
    type  = string
    value = string
  }))
  description = "DNS records to create in the zone for region hostnames whose cloud does not hold them, keyed by hostname: e.g. an A record to a GCP load balancer's address. iconctl fills it from the region stacks' region_record outputs (GCP regions without dns_managed_zone); AWS region hostnames are delegated to Route 53 by their zone step instead."
  default     = {}

  validation {
    condition     = alltrue([for record in values(var.region_records) : contains(["A", "AAAA", "CNAME"], record.type)])
    error_message = "region_records types must be A, AAAA or CNAME."
  }
}

variable "notification_email" {
  type        = string
  description = "Address notified when a pool's health changes; empty for none."
  default     = ""
}
