variable "hostname" {
  type        = string
  description = "The region's hostname, e.g. us-east-1.api.example.org: the new hosted zone's name."
}

variable "cloudflare_zone" {
  type        = string
  description = "The Cloudflare zone that holds the hostname's parent domain (spec: geo.zone); it gets the delegation's NS records."
}

variable "ns_ttl" {
  type        = number
  description = "TTL in seconds of the NS records in Cloudflare."
  default     = 3600

  validation {
    condition     = var.ns_ttl >= 60 && var.ns_ttl <= 86400
    error_message = "ns_ttl must be between 60 and 86400 seconds."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags of the hosted zone."
  default     = {}
}
