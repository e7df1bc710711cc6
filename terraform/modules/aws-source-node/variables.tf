variable "name" {
  type        = string
  description = "Name prefix, e.g. icon-api-us-east-1-source."
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
  description = "The source node's compose .env (with a baked image), as iconctl renders it."
  default     = {}
}

variable "ami_id" {
  type        = string
  description = "Baked machine image; null boots Debian 12 and installs with user data."
  default     = null
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the source node."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the node."
}

variable "subnet_id" {
  type        = string
  description = "Public subnet of the node."
}

variable "data_volume_size_gb" {
  type        = number
  description = "gp3 data volume size; 0 keeps the chain on local NVMe."
  default     = 0
}

variable "snapshot_store" {
  type        = string
  description = "Snapshot store URL the node writes to, e.g. s3://icon-api-snapshots-us-east-1/mainnet."

  validation {
    condition     = startswith(var.snapshot_store, "s3://")
    error_message = "snapshot_store must be an s3:// URL."
  }
}

variable "snapshot_write_policy_arn" {
  type        = string
  description = "IAM policy granting read-write access to the snapshot bucket."
}

variable "sync_interval_minutes" {
  type        = number
  description = "Minutes between snapshots."
  default     = 60
}

variable "sync_keep" {
  type        = number
  description = "Snapshots kept."
  default     = 24
}

variable "rpc_port" {
  type        = number
  description = "Node JSON-RPC port (loopback only)."
  default     = 9000
}

variable "p2p_port" {
  type        = number
  description = "Node peer-to-peer port."
  default     = 7100
}

variable "agent_port" {
  type        = number
  description = "Agent port (monitoring only)."
  default     = 9900
}

variable "ssh_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to SSH; empty closes SSH."
  default     = []
}

variable "monitoring_cidrs" {
  type        = list(string)
  description = "CIDRs of the regional Prometheus servers: they may reach the agent, goloop /metrics on rpc_port and exporter_ports; 0.0.0.0/0 is refused."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "detailed_monitoring" {
  type        = bool
  description = "EC2 detailed (1-minute) monitoring. Keep true on AWS; false only where the API lacks MonitorInstances (a local AWS emulator)."
  default     = true
}

variable "metrics_on_private_address" {
  type        = bool
  description = "Move node_exporter and the log shipper's metrics to the node's private address (baked images, at boot) even without monitoring_cidrs: a monitoring host admitted by security group or network tag scrapes them."
  default     = false
}
