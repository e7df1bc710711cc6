variable "name" {
  type        = string
  description = "Name prefix (GCP naming rules), e.g. icon-api-asia-northeast1."

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$", var.name))
    error_message = "name must be at most 52 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "service_account_id" {
  type        = string
  description = "Account id of the node's own service account (6-30 characters)."
}

variable "project" {
  type        = string
  description = "GCP project ID."
}

variable "zone" {
  type        = string
  description = "Zone of the node, e.g. asia-northeast1-a."
}

variable "role" {
  type        = string
  description = "node: a serving citizen node. source: the source-of-truth node that takes snapshots."
  default     = "node"

  validation {
    condition     = contains(["node", "source"], var.role)
    error_message = "role must be one of: node, source."
  }
}

variable "network" {
  type        = string
  description = "ICON network: mainnet, lisbon or berlin."
}

variable "node_image" {
  type        = string
  description = "Container image of the node."
}

variable "image_mode" {
  type        = string
  description = "How the node is configured: ansible (Ansible runs after boot; user data only mounts the data disk), baked (a Packer image; user data writes compose_env and starts the compose stack) or container (a stock Debian image configuring itself)."
  default     = "ansible"

  validation {
    condition     = contains(["ansible", "baked", "container"], var.image_mode)
    error_message = "image_mode must be one of: ansible, baked, container."
  }
}

variable "compose_env" {
  type        = map(string)
  description = "The compose .env of the node's role (baked mode), as iconctl renders it."
  default     = {}
}

variable "machine_image" {
  type        = string
  description = "Boot image (baked by Packer, or any Debian 12 image); null: debian-cloud/debian-12."
  default     = null
}

variable "machine_type" {
  type        = string
  description = "Machine type, e.g. n2-standard-8."
}

variable "vpc_network" {
  type        = string
  description = "VPC network (self link) for the firewall rules."
}

variable "subnetwork" {
  type        = string
  description = "Subnetwork (self link) of the node."
}

variable "boot_disk_size_gb" {
  type        = number
  description = "Boot disk size."
  default     = 30
}

variable "local_ssd_count" {
  type        = number
  description = "Local NVMe SSDs (375 GB each, striped) for the chain; 0 uses a pd-balanced data disk of data_disk_size_gb instead."
  default     = 0

  validation {
    condition     = contains([0, 1, 2, 4, 8, 16, 24], var.local_ssd_count)
    error_message = "local_ssd_count must be one of 0, 1, 2, 4, 8, 16, 24."
  }
}

variable "data_disk_size_gb" {
  type        = number
  description = "Size of the persistent data disk when local_ssd_count is 0; 0 keeps the chain on the boot disk."
  default     = 0
}

variable "rpc_port" {
  type        = number
  description = "Node JSON-RPC port (loopback only)."
  default     = 9000
}

variable "p2p_port" {
  type        = number
  description = "Node peer-to-peer port, open to everyone."
  default     = 7100
}

variable "agent_port" {
  type        = number
  description = "Agent port: monitoring_cidrs and health_checker_cidrs only."
  default     = 9900
}

variable "public_rpc" {
  type        = bool
  description = "Serve public JSON-RPC from this node (80 and 443 open, TLS by certbot)."
  default     = true
}

variable "ssh_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to SSH (OS Login); empty closes SSH. 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.ssh_cidrs, "0.0.0.0/0")
    error_message = "ssh_cidrs must not contain 0.0.0.0/0."
  }
}

variable "monitoring_cidrs" {
  type        = list(string)
  description = "CIDRs of the regional Prometheus servers: they may reach the agent, goloop /metrics on rpc_port and exporter_ports; 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.monitoring_cidrs, "0.0.0.0/0")
    error_message = "monitoring_cidrs must not contain 0.0.0.0/0."
  }
}

variable "health_checker_cidrs" {
  type        = list(string)
  description = "External health checkers allowed to probe /readyz; 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.health_checker_cidrs, "0.0.0.0/0")
    error_message = "health_checker_cidrs must not contain 0.0.0.0/0."
  }
}

variable "snapshot_store" {
  type        = string
  description = "Snapshot store URL (gs://bucket/prefix); empty when sync is disabled. Bucket access is granted on the bucket to service_account_email."
  default     = ""
}

variable "sync_interval_minutes" {
  type        = number
  description = "Minutes between snapshots (source node)."
  default     = 60
}

variable "sync_keep" {
  type        = number
  description = "Snapshots kept (source node)."
  default     = 24
}

variable "tls_email" {
  type        = string
  description = "Let's Encrypt contact for certbot in container mode (for the first of dns_names); with Ansible, the edge role obtains the certificate."
  default     = null
}

variable "dns_managed_zone" {
  type        = string
  description = "Cloud DNS managed zone for the node's records; empty creates none."
  default     = ""
}

variable "dns_names" {
  type        = list(string)
  description = "Hostnames pointed at the node's static address (only with dns_managed_zone)."
  default     = []
}

variable "labels" {
  type        = map(string)
  description = "Labels of every resource."
  default     = {}
}

variable "exporter_ports" {
  type        = list(number)
  description = "Exporter ports the regional Prometheus scrapes besides the agent and goloop's /metrics on rpc_port: node_exporter (9100) and the log shipper's metrics (9598). Open only to monitoring_cidrs."
  default     = [9100, 9598]

  validation {
    condition     = alltrue([for port in var.exporter_ports : port >= 1024 && port <= 65535])
    error_message = "exporter_ports must be unprivileged ports (1024-65535)."
  }
}

variable "metrics_on_private_address" {
  type        = bool
  description = "Move node_exporter and the log shipper's metrics to the node's private address (baked images, at boot) even without monitoring_cidrs: a monitoring host admitted by security group or network tag scrapes them."
  default     = false
}
