# This stack's own variables; those every region stack takes are in region-variables.tf
# (links to terraform/shared/). Rendered by `iconctl render` into terraform.tfvars.json (the
# contract test keeps the two in step).

variable "tls_email" {
  type        = string
  description = "Let's Encrypt contact for certbot on the node (spec: tls.email); null serves without a certificate."
  default     = null
}

# Operator settings that are not part of the spec; the defaults are the secure choice.

variable "route53_zone" {
  type        = string
  description = "Route 53 public hosted zone authoritative for the hostname (certificate validation and records); empty: the hostname's parent domain."
  default     = ""
}

variable "route53_zone_id" {
  type        = string
  description = "ID of the Route 53 hosted zone for the hostname; iconctl passes the zone its zone step created and delegated from Cloudflare (stack aws-region-zone). null: look up route53_zone by name."
  default     = null
}

variable "vpc_id" {
  type        = string
  description = "Reuse this VPC instead of creating one (then subnet_ids is required)."
  default     = null
}

variable "subnet_ids" {
  type        = list(string)
  description = "Public subnets of the reused VPC."
  default     = []
}

variable "detailed_monitoring" {
  type        = bool
  description = "EC2 detailed (1-minute) monitoring of the nodes started as instances. Keep true on AWS; false only where the API lacks MonitorInstances (moto, see docs/terraform.md)."
  default     = true
}

variable "key_name" {
  type        = string
  description = "Operator setting: an existing EC2 key pair for Ansible's SSH login; null for none (then bring the key another way)."
  default     = null
}
