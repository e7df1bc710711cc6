variable "name" {
  type        = string
  description = "Name prefix, e.g. icon-api-us-east-1."
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

variable "ami_id" {
  type        = string
  description = "Machine image baked by Packer (recommended: a new node then only restores and starts); null boots Debian 12 and installs with user data."
  default     = null
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type; use one with local NVMe (i4i, m6id, ...) for the chain."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the nodes."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Public subnets the group spreads over."
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

variable "target_group_arns" {
  type        = list(string)
  description = "Load balancer target groups the nodes register in."
}

variable "lb_security_group_id" {
  type        = string
  description = "Security group of the load balancer; allowed to the proxy and agent ports."
}

variable "rpc_port" {
  type        = number
  description = "Node JSON-RPC port (loopback only, behind the local proxy)."
  default     = 9000
}

variable "p2p_port" {
  type        = number
  description = "Node peer-to-peer port, open to everyone."
  default     = 7100
}

variable "agent_port" {
  type        = number
  description = "Agent port: from the load balancer and monitoring_cidrs only."
  default     = 9900
}

variable "backend_port" {
  type        = number
  description = "Port of the nodes' reverse proxy the load balancer forwards to."
  default     = 80
}

variable "root_volume_size_gb" {
  type        = number
  description = "Size of the encrypted gp3 root volume."
  default     = 30
}

variable "data_volume_size_gb" {
  type        = number
  description = "Size of an encrypted gp3 data volume per node; 0 keeps the chain on the instance's local NVMe (striped at boot)."
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

variable "snapshot_store" {
  type        = string
  description = "Snapshot store a new node restores from (s3://bucket/prefix); empty: nodes sync from the network."
  default     = ""
}

variable "snapshot_read_policy_arn" {
  type        = string
  description = "IAM policy for reading snapshots; needed when snapshot_store is set."
  default     = null
}

variable "boot_grace_seconds" {
  type        = number
  description = "Seconds a new node may take to restore and start: the group's health check grace period and instance warm-up (the default warm-up at most the API's 3600), and the agent's grace before failing liveness counts."
  default     = 3600

  validation {
    condition     = var.boot_grace_seconds >= 300 && var.boot_grace_seconds <= 86400
    error_message = "boot_grace_seconds must be between 300 and 86400."
  }
}

variable "replace_after_seconds" {
  type        = number
  description = "Seconds /healthz must fail without a break (after the boot grace) before the node's agent marks its instance Unhealthy and the group replaces it."
  default     = 300

  validation {
    condition     = var.replace_after_seconds >= 30 && var.replace_after_seconds <= 3600
    error_message = "replace_after_seconds must be between 30 and 3600."
  }
}

variable "min_healthy_percentage" {
  type        = number
  description = "Instance refresh keeps at least this share of the group ready."
  default     = 90
}

variable "drain_seconds" {
  type        = number
  description = "Seconds a terminating node keeps serving after failing readiness."
  default     = 60
}

variable "cpu_target_percent" {
  type        = number
  description = "Target tracking: average CPU utilisation the group scales to hold."
  default     = 60
}

variable "ssh_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to SSH; empty closes SSH. 0.0.0.0/0 is refused."
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

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource and propagated to the instances."
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

variable "region_health" {
  type        = bool
  description = "Serve /region/readyz: the agents count the healthy targets of region_health_target_group_arn (the nodes get elasticloadbalancing:DescribeTargetHealth in this region). Decided at plan time; false: no region endpoint and no such permission."
  default     = false
}

variable "region_health_target_group_arn" {
  type        = string
  description = "Target group whose healthy targets the agents count for /region/readyz when region_health is true (may be unknown until apply)."
  default     = ""

  validation {
    condition     = var.region_health_target_group_arn == "" || can(regex("^arn:", var.region_health_target_group_arn))
    error_message = "region_health_target_group_arn must be empty or a target group ARN."
  }
}

variable "min_ready_nodes" {
  type        = number
  description = "/region/readyz answers OK while at least this many targets are healthy."
  default     = 1
}

variable "metrics_on_private_address" {
  type        = bool
  description = "Move node_exporter and the log shipper's metrics to the node's private address (baked images, at boot) even without monitoring_cidrs: a monitoring host admitted by security group or network tag scrapes them."
  default     = false
}
