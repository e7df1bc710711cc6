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
  description = "Account id of the nodes' service account (6-30 characters)."
}

variable "project" {
  type        = string
  description = "GCP project ID."
}

variable "region" {
  type        = string
  description = "GCP region of the group."
}

variable "zones" {
  type        = list(string)
  description = "Zones the regional group spreads over."
}

variable "network" {
  type        = string
  description = "ICON network: mainnet, lisbon or berlin."
}

variable "node_image" {
  type        = string
  description = "Container image of the node."
}

variable "compose_env" {
  type        = map(string)
  description = "The serving nodes' compose .env (with a baked image), as iconctl renders it."
  default     = {}
}

variable "machine_image" {
  type        = string
  description = "Boot image baked by Packer (recommended); null boots Debian 12 and installs with user data."
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
  description = "Subnetwork (self link) of the nodes."
}

variable "min_size" {
  type        = number
  description = "Minimum number of nodes."

  validation {
    condition     = var.min_size >= 1
    error_message = "min_size must be at least 1."
  }
}

variable "max_size" {
  type        = number
  description = "Maximum number of nodes."
}

variable "local_ssd_count" {
  type        = number
  description = "Local NVMe SSDs per node (375 GB each, striped at boot) holding the chain."
  default     = 8

  validation {
    condition     = contains([1, 2, 4, 8, 16, 24], var.local_ssd_count)
    error_message = "local_ssd_count must be one of 1, 2, 4, 8, 16, 24."
  }
}

variable "boot_disk_size_gb" {
  type        = number
  description = "Boot disk size."
  default     = 30
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
  description = "Agent port: Google's load balancer and health check ranges, and monitoring_cidrs."
  default     = 9900
}

variable "backend_port" {
  type        = number
  description = "Port of the nodes' reverse proxy the load balancer forwards to."
  default     = 80
}

variable "snapshot_store" {
  type        = string
  description = "Snapshot store a new node restores from (gs://bucket/prefix); empty: nodes sync from the network."
  default     = ""
}

variable "boot_grace_seconds" {
  type        = number
  description = "Seconds a new node may take to restore and start: autohealing (on /healthz) waits this long, at most the API's 3600, and the agent answers /healthz OK until its node first answers or this time is over."
  default     = 3600

  validation {
    condition     = var.boot_grace_seconds >= 300 && var.boot_grace_seconds <= 86400
    error_message = "boot_grace_seconds must be between 300 and 86400."
  }
}

variable "cpu_target" {
  type        = number
  description = "Autoscaler target CPU utilisation (0-1)."
  default     = 0.6
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

variable "region_health_backend_service" {
  type        = string
  description = "Name of the global backend service whose health of this group the agents count for /region/readyz (the nodes' service account gets a custom role with compute.backendServices.get); empty: no region endpoint and no such role."
  default     = ""
}

variable "min_ready_nodes" {
  type        = number
  description = "/region/readyz answers OK while at least this many instances are healthy."
  default     = 1
}

variable "metrics_on_private_address" {
  type        = bool
  description = "Move node_exporter and the log shipper's metrics to the node's private address (baked images, at boot) even without monitoring_cidrs: a monitoring host admitted by security group or network tag scrapes them."
  default     = false
}
