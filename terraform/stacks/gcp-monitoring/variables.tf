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

variable "gcp_project" {
  type        = string
  description = "GCP project (spec: gcp.project)."
}

variable "instance_type" {
  type        = string
  description = "Machine type of the host (spec: monitoring.machine_types.gcp)."
}

variable "volume_gib" {
  type        = number
  description = "Size of the host's data disk (spec: monitoring.volume_gib)."
}

variable "tags" {
  type        = map(string)
  description = "Labels of every resource."
  default     = {}
}

# Passed by iconctl from the region stack's recorded outputs (its monitoring_network output).

variable "region_network" {
  type = object({
    network    = string
    subnetwork = string
    node_tags  = list(string)
  })
  description = "The region's network as its stack reports it (output monitoring_network): network, subnetwork and the nodes' network tags."
  default     = null

  validation {
    condition     = var.region_network != null
    error_message = "region_network is required (iconctl passes the region stack's monitoring_network output): apply the region first."
  }
}

# Operator settings that are not part of the spec; the defaults are the secure choice.

variable "federation_cidrs" {
  type        = list(string)
  description = "Private ranges allowed to the regional Prometheus on 9090 (the global Prometheus' host, over your private link); empty admits nothing."
  default     = []
}

variable "create_nat" {
  type        = bool
  description = "Create a Cloud NAT for the host's outbound traffic; false when the region's network has one."
  default     = true
}
