variable "name" {
  type        = string
  description = "Name prefix of the resources, e.g. my-icon-node-us-east-2."
}

variable "role" {
  type        = string
  description = "node: a serving citizen node. source: the source-of-truth node that also takes snapshots (gets write access to the snapshot bucket)."
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
  description = "Container image of the node, e.g. iconloop/icon2-node:v1.4.2."
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

variable "ami_id" {
  type        = string
  description = "Machine image (baked by Packer, or any Debian 12 image); null: the latest official Debian 12 image."
  default     = null
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type; types with local NVMe (m6id, i4i, ...) keep the chain on instance store unless data_volume_size_gb is set."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the node."
}

variable "subnet_id" {
  type        = string
  description = "Public subnet of the node."
}

variable "root_volume_size_gb" {
  type        = number
  description = "Size of the encrypted gp3 root volume."
  default     = 30
}

variable "data_volume_size_gb" {
  type        = number
  description = "Size of an encrypted gp3 data volume for the chain; 0 keeps the chain on the instance's local NVMe (or the root volume when it has none)."
  default     = 0

  validation {
    condition     = var.data_volume_size_gb == 0 || (var.data_volume_size_gb >= 100 && var.data_volume_size_gb <= 16384)
    error_message = "data_volume_size_gb must be 0 or between 100 and 16384."
  }
}

variable "data_volume_iops" {
  type        = number
  description = "Provisioned IOPS of the gp3 data volume."
  default     = 6000
}

variable "data_volume_throughput" {
  type        = number
  description = "Provisioned throughput (MiB/s) of the gp3 data volume."
  default     = 500
}

variable "rpc_port" {
  type        = number
  description = "Node JSON-RPC port; never opened in the security group (the local reverse proxy reaches it on loopback)."
  default     = 9000
}

variable "p2p_port" {
  type        = number
  description = "Node peer-to-peer port, open to everyone."
  default     = 7100
}

variable "agent_port" {
  type        = number
  description = "Health and metrics agent port, open only to health_checker_cidrs and monitoring_cidrs."
  default     = 9900
}

variable "public_rpc" {
  type        = bool
  description = "Serve the public JSON-RPC endpoint from this node (ports 80 and 443 open, TLS by certbot). False for a source node that only takes snapshots."
  default     = true
}

variable "ssh_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach SSH (22); empty closes SSH. 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.ssh_cidrs, "0.0.0.0/0")
    error_message = "ssh_cidrs must not contain 0.0.0.0/0: list the operators' addresses."
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
  description = "CIDRs of external health checkers (e.g. Cloudflare's) allowed to probe the agent's /readyz; 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.health_checker_cidrs, "0.0.0.0/0")
    error_message = "health_checker_cidrs must not contain 0.0.0.0/0."
  }
}

variable "snapshot_store" {
  type        = string
  description = "Snapshot store URL (s3://bucket/prefix); empty when sync is disabled."
  default     = ""
}

variable "snapshot_read_policy_arn" {
  type        = string
  description = "IAM policy for reading snapshots (attached to a node); needed when snapshot_store is set."
  default     = null
}

variable "snapshot_write_policy_arn" {
  type        = string
  description = "IAM policy for writing snapshots (attached to a source node); needed when role is source and snapshot_store is set."
  default     = null
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
  description = "Let's Encrypt contact for certbot in container mode (with public_rpc, for the first of dns_names); with Ansible, the edge role obtains the certificate."
  default     = null
}

variable "route53_zone_id" {
  type        = string
  description = "Route 53 hosted zone for the node's records; empty creates no records."
  default     = ""
}

variable "dns_names" {
  type        = list(string)
  description = "Hostnames pointed at the node's Elastic IP (A records, only with route53_zone_id)."
  default     = []
}

variable "key_name" {
  type        = string
  description = "EC2 key pair for SSH; null for none."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
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

variable "detailed_monitoring" {
  type        = bool
  description = "EC2 detailed (1-minute) CloudWatch monitoring of the instance. Keep true on AWS; false only where the API lacks MonitorInstances (a local AWS emulator)."
  default     = true
}

variable "metrics_on_private_address" {
  type        = bool
  description = "Move node_exporter and the log shipper's metrics to the node's private address (baked images, at boot) even without monitoring_cidrs: a monitoring host admitted by security group or network tag scrapes them."
  default     = false
}
