variable "name" {
  type        = string
  description = "Name prefix of the resources, e.g. icon-api-asia-northeast1."
}

variable "project" {
  type        = string
  description = "GCP project."
}

variable "region" {
  type        = string
  description = "Region of the host (and of the Cloud NAT)."
}

variable "zone" {
  type        = string
  description = "Zone of the host and its data disk."
}

variable "network" {
  type        = string
  description = "The region's VPC network (self link or name)."
}

variable "subnetwork" {
  type        = string
  description = "The region's subnetwork the host joins (no external address)."
}

variable "node_tags" {
  type        = list(string)
  description = "Network tags of the region's nodes; they admit the host on scrape_ports."
  default     = []
}

variable "scrape_ports" {
  type        = list(number)
  description = "Ports the host scrapes on the nodes: the agent, node_exporter, the log shipper."
  default     = [9900, 9100, 9598]
}

variable "prometheus_port" {
  type        = number
  description = "Port of the regional Prometheus, admitted from federation_cidrs."
  default     = 9090
}

variable "federation_cidrs" {
  type        = list(string)
  description = "Private ranges allowed to the regional Prometheus (the global Prometheus' host, over your private link); empty admits nothing. 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.federation_cidrs, "0.0.0.0/0")
    error_message = "federation_cidrs must not contain 0.0.0.0/0."
  }
}

variable "machine_type" {
  type        = string
  description = "Machine type of the host (spec: monitoring.machine_types.gcp)."
  default     = "e2-medium"
}

variable "machine_image" {
  type        = string
  description = "Boot image; null: debian-cloud/debian-12."
  default     = null
}

variable "volume_gib" {
  type        = number
  description = "Size of the data disk (spec: monitoring.volume_gib)."
  default     = 50

  validation {
    condition     = var.volume_gib >= 20 && var.volume_gib <= 16384
    error_message = "volume_gib must be between 20 and 16384."
  }
}

variable "create_nat" {
  type        = bool
  description = "Create a Cloud Router and Cloud NAT so the host reaches package mirrors and the alert receivers; false when the network has one already."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels of every resource."
  default     = {}
}
