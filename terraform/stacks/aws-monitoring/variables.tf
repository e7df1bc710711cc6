# Rendered by `iconctl render` into terraform.tfvars.json (the contract test keeps the two in
# step): the region's monitoring part of the spec.

variable "name" {
  type        = string
  description = "Deployment name (spec: name)."
}

variable "region" {
  type        = string
  description = "Region of this stack (spec: regions[].name)."
}

variable "domain" {
  type        = string
  description = "Hostname the region serves (names the resources like the region stack's)."
}

variable "instance_type" {
  type        = string
  description = "Instance type of the host (spec: monitoring.machine_types.aws)."
}

variable "volume_gib" {
  type        = number
  description = "Size of the host's encrypted data volume (spec: monitoring.volume_gib)."
}

variable "tags" {
  type        = map(string)
  description = "Tags of every resource."
  default     = {}
}

# Passed by iconctl from the region stack's recorded outputs (its monitoring_network output).

variable "region_network" {
  type = object({
    vpc_id                  = string
    vpc_cidr_block          = optional(string)
    subnet_ids              = list(string)
    node_security_group_ids = list(string)
  })
  description = "The region's network as its stack reports it (output monitoring_network): VPC, its range, public subnets and the nodes' security groups."
  default     = null

  validation {
    condition     = var.region_network != null && try(length(var.region_network.subnet_ids) > 0, false)
    error_message = "region_network is required (iconctl passes the region stack's monitoring_network output): apply the region first."
  }
}

# Operator settings that are not part of the spec; the defaults are the secure choice.

variable "federation_cidrs" {
  type        = list(string)
  description = "Private ranges allowed to the regional Prometheus on 9090 (the global Prometheus' host, over your private link); empty admits nothing."
  default     = []
}

variable "subnet_id" {
  type        = string
  description = "An existing private subnet with outbound access for the host; null creates a private subnet and a NAT gateway."
  default     = null
}

variable "private_subnet_cidr" {
  type        = string
  description = "Range of the private subnet created for the host; null: the last /26 of the region's VPC."
  default     = null
}

variable "key_name" {
  type        = string
  description = "Operator setting: an existing EC2 key pair for Ansible's SSH login through Session Manager; null for none (then bring the key another way)."
  default     = null
}

variable "detailed_monitoring" {
  type        = bool
  description = "EC2 detailed (1-minute) monitoring of the host. Keep true on AWS; false only where the API lacks MonitorInstances (moto, see docs/terraform.md)."
  default     = true
}
