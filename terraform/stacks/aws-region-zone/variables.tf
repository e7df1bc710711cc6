# Rendered by `iconctl render` into <region>/zone/terraform.tfvars.json for every AWS region
# behind the global load balancer that does not name its own Route 53 zone
# (spec: regions[].route53_zone).

variable "name" {
  type        = string
  description = "Deployment name (spec: name)."
}

variable "region" {
  type        = string
  description = "AWS region of the deployment's region (spec: regions[].name); Route 53 itself is global."
}

variable "domain" {
  type        = string
  description = "The region's hostname, <region>.<domain>: the zone to create and delegate."
}

variable "zone" {
  type        = string
  description = "Cloudflare zone holding the parent domain (spec: geo.zone); it gets the NS records."
}

variable "tags" {
  type        = map(string)
  description = "Tags of the hosted zone."
  default     = {}
}

# Operator settings that are not part of the spec.

variable "ns_ttl" {
  type        = number
  description = "TTL in seconds of the delegation's NS records in Cloudflare."
  default     = 3600
}
