# The variables every region stack (aws-single, aws-asg, gcp-single, gcp-asg) takes, kept
# once here and linked into each stack as region-variables.tf; each stack's variables.tf
# declares only its own. Rendered by `iconctl render` into terraform.tfvars.json (the
# contract test keeps the two in step): the region's part of the spec.

variable "name" {
  type        = string
  description = "Deployment name (spec: name)."
}

variable "region" {
  type        = string
  description = "Region of this stack (spec: regions[].name)."
}

variable "network" {
  type        = string
  description = "ICON network: mainnet, lisbon or berlin (spec: network)."

  validation {
    condition     = contains(["mainnet", "lisbon", "berlin"], var.network)
    error_message = "network must be one of: mainnet, lisbon, berlin."
  }
}

variable "domain" {
  type        = string
  description = "Hostname this region serves: <region>.<domain> behind a global load balancer, the spec's domain for a lone region."
}

variable "node_image" {
  type        = string
  description = "Container image of the node (spec: node.image)."
}

variable "rpc_port" {
  type        = number
  description = "Node JSON-RPC port (spec: node.rpc_port); reached only through the local reverse proxy."
  default     = 9000
}

variable "p2p_port" {
  type        = number
  description = "Node peer-to-peer port (spec: node.p2p_port)."
  default     = 7100
}

variable "agent_port" {
  type        = number
  description = "Port of the health and metrics agent."
  default     = 9900
}

variable "instance_type" {
  type        = string
  description = "Instance or machine type (spec: regions[].instance_type)."
}

variable "data_volume_gib" {
  type        = number
  description = "Space the chain needs on each node, in GiB."
  default     = 2500

  validation {
    condition     = var.data_volume_gib >= 100 && var.data_volume_gib <= 16384
    error_message = "data_volume_gib must be between 100 and 16384."
  }
}

variable "snapshot_bucket" {
  type        = string
  description = "This region's snapshot bucket; empty when sync is disabled (spec: sync)."
  default     = ""
}

variable "sync_interval_minutes" {
  type        = number
  description = "Minutes between snapshots on the source node (spec: sync.interval_minutes)."
  default     = 60
}

variable "sync_keep" {
  type        = number
  description = "Snapshots kept (spec: sync.keep)."
  default     = 24
}

variable "tags" {
  type        = map(string)
  description = "Tags (AWS) or labels (GCP) of every resource."
  default     = {}
}

variable "monitoring_host" {
  type        = bool
  description = "A private monitoring host scrapes this region's nodes (spec: monitoring.prometheus): the exporters listen on the nodes' private address, as with monitoring_cidrs."
  default     = false
}

# Operator settings that are not part of the spec; the defaults are the secure choice.

variable "ssh_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to SSH; empty closes SSH."
  default     = []
}

variable "monitoring_cidrs" {
  type        = list(string)
  description = "CIDRs of the regional Prometheus servers: they may scrape the agent, goloop /metrics, node_exporter and the log shipper privately; non-empty also creates the Prometheus discovery identity."
  default     = []
}

variable "image_id" {
  type        = string
  description = "Machine image built by Packer (iconctl passes the image step's result); null: the official Debian 12 image."
  default     = null
}

variable "health_checker_cidrs" {
  type        = list(string)
  description = "Ranges allowed to probe the agents' /readyz from outside; null: Cloudflare's published IPv4 ranges when the region is an origin of the global load balancer (its hostname is <region>.<domain>), none for a lone region."
  default     = null
}

variable "protect" {
  type        = bool
  description = "Guard against teardown (spec: protect): load balancers keep deletion protection and snapshot buckets refuse to be destroyed while they hold snapshots. false lets `iconctl destroy` remove everything, snapshots included."
  default     = true
}
