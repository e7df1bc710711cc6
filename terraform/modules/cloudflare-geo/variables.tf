variable "name" {
  type        = string
  description = "Deployment name; pools are <name>-<region>."
}

variable "hostname" {
  type        = string
  description = "Public hostname the load balancer answers for, e.g. api.example.org."
}

variable "zone" {
  type        = string
  description = "Cloudflare zone holding the hostname, e.g. example.org."
}

variable "account_id" {
  type        = string
  description = "Cloudflare account owning the monitors and pools; empty: the zone's account."
  default     = ""
}

variable "regions" {
  type = list(object({
    name      = string
    cloud     = string
    continent = string
    endpoint  = string
    origins   = optional(list(string), [])
    min_ready = optional(number, 1)
    behind_lb = optional(bool, false)
  }))
  description = "Regions in failover priority order; see the geo-steering-map module."
}

variable "steering" {
  type        = string
  description = "geo, dynamic or off."
  default     = "geo"
}

variable "proxied" {
  type        = bool
  description = "Proxy traffic through Cloudflare (TLS at the edge, DDoS protection); false answers DNS only."
  default     = true
}

variable "monitor_path" {
  type        = string
  description = "Readiness path of the agent."
  default     = "/readyz"
}

variable "region_monitor_path" {
  type        = string
  description = "Region-aggregate readiness path of the agents, asked through a regional load balancer (pools of regions with behind_lb and no listed origins)."
  default     = "/region/readyz"
}

variable "monitor_port" {
  type        = number
  description = "Port of the agent's readiness endpoint on each origin."
  default     = 9900
}

variable "expected_body" {
  type        = string
  description = "Body a ready origin answers with."
  default     = "OK"
}

variable "monitor_interval" {
  type        = number
  description = "Seconds between health checks from each checking region."
  default     = 60
}

variable "notification_email" {
  type        = string
  description = "Address Cloudflare notifies when a pool's health changes; empty for none."
  default     = ""
}
