variable "role" {
  type        = string
  description = "node: a serving citizen node that restores from the latest snapshot at first boot. source: the source-of-truth node, which also takes snapshots on a timer."
  default     = "node"

  validation {
    condition     = contains(["node", "source"], var.role)
    error_message = "role must be one of: node, source."
  }
}

variable "image_mode" {
  type        = string
  description = "baked: the image was built by Packer with the node roles; user data writes the compose .env (compose_env) and starts the compose stack. ansible: Ansible configures the node after boot; user data only prepares the data disk. container: a stock Debian image configuring itself: user data installs Docker, nginx and iconctl and runs the node image (a fallback for autoscaled nodes without a baked image)."
  default     = "baked"

  validation {
    condition     = contains(["baked", "ansible", "container"], var.image_mode)
    error_message = "image_mode must be one of: baked, ansible, container."
  }
}

variable "compose_env" {
  type        = map(string)
  description = "Contents of the compose .env in baked mode (COMPOSE_FILE and the ICON_* values, as iconctl renders them for the node's role)."
  default     = {}
}

variable "compose_dir" {
  type        = string
  description = "Directory of the compose stack in the baked image."
  default     = "/opt/icon/compose"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._/-]+$", var.compose_dir))
    error_message = "compose_dir must be an absolute path."
  }
}

variable "network" {
  type        = string
  description = "ICON network: mainnet, lisbon or berlin."

  validation {
    condition     = contains(["mainnet", "lisbon", "berlin"], var.network)
    error_message = "network must be one of: mainnet, lisbon, berlin."
  }
}

variable "node_image" {
  type        = string
  description = "Container image of the node, e.g. iconloop/icon2-node:v1.4.2."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$", var.node_image))
    error_message = "node_image must be an image reference such as iconloop/icon2-node:v1.4.2."
  }
}

variable "rpc_port" {
  type        = number
  description = "Node JSON-RPC port; bound to loopback, reached only through the local reverse proxy."
  default     = 9000
}

variable "p2p_port" {
  type        = number
  description = "Node peer-to-peer port (public)."
  default     = 7100
}

variable "agent_port" {
  type        = number
  description = "Port of the health and metrics agent (/healthz, /readyz, /metrics)."
  default     = 9900
}

variable "proxy_port" {
  type        = number
  description = "Plain-HTTP port of the node's reverse proxy that the load balancer forwards to."
  default     = 80
}

variable "data_dir" {
  type        = string
  description = "Host directory the data disks are mounted on; the chain lives in its data/ subdirectory (mounted as /goloop/data in the container)."
  default     = "/var/lib/icon"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._/-]+$", var.data_dir))
    error_message = "data_dir must be an absolute path of letters, digits, dots, hyphens, underscores and slashes."
  }
}

variable "data_disks" {
  type        = string
  description = "Glob of the block devices that hold the node's data (striped when several), e.g. /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_* for instance-store NVMe. Empty: keep the data on the root disk."
  default     = ""

  validation {
    condition     = can(regex("^(/dev/[A-Za-z0-9._/*-]+)?$", var.data_disks))
    error_message = "data_disks must be empty or a glob under /dev such as /dev/disk/by-id/google-local-nvme-ssd-*."
  }
}

variable "snapshot_store" {
  type        = string
  description = "Snapshot store URL (s3://bucket/prefix or gs://bucket/prefix); empty when sync is disabled."
  default     = ""

  validation {
    condition     = can(regex("^((s3|gs)://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?)?$", var.snapshot_store))
    error_message = "snapshot_store must be empty or an s3:// or gs:// URL such as s3://icon-api-snapshots-us-east-1/mainnet."
  }
}

variable "sync_interval_minutes" {
  type        = number
  description = "Minutes between snapshots on the source node."
  default     = 60

  validation {
    condition     = var.sync_interval_minutes >= 5 && var.sync_interval_minutes <= 10080
    error_message = "sync_interval_minutes must be between 5 and 10080 (one week)."
  }
}

variable "sync_keep" {
  type        = number
  description = "Snapshots kept by the source node's prune step."
  default     = 24

  validation {
    condition     = var.sync_keep >= 1
    error_message = "sync_keep must be at least 1."
  }
}

variable "tls_domain" {
  type        = string
  description = "Hostname to obtain a Let's Encrypt certificate for with certbot on the node; null for nodes behind a TLS load balancer."
  default     = null
}

variable "tls_email" {
  type        = string
  description = "Contact e-mail for Let's Encrypt; required when tls_domain is set."
  default     = null

  validation {
    condition     = var.tls_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.tls_email))
    error_message = "tls_email must be null or an e-mail address."
  }
}

variable "iconctl_version" {
  type        = string
  description = "iconctl version installed with pip in container mode."
  default     = "0.1.0"
}


variable "drain_on_termination" {
  type        = string
  description = "Drain before the instance is terminated: \"aws\" watches the Auto Scaling lifecycle state in the instance metadata (IMDSv2); \"\" disables. Draining stops the agent (readiness fails, the load balancer stops sending new requests), waits drain_seconds, then stops the node cleanly."
  default     = ""

  validation {
    condition     = contains(["", "aws"], var.drain_on_termination)
    error_message = "drain_on_termination must be \"\" or \"aws\"."
  }
}

variable "drain_seconds" {
  type        = number
  description = "Seconds between failing readiness and stopping the node when draining."
  default     = 60
}

variable "metrics_on_private_address" {
  type        = bool
  description = "Baked images: at first boot, move node_exporter (9100) and the log shipper's metrics (9598) from 127.0.0.1 to the instance's private address so the regional Prometheus can scrape them. Only an RFC 1918 address is used; otherwise they stay on loopback."
  default     = false
}

variable "region_health_source" {
  type        = string
  description = "Where the agent counts the region's ready nodes for /region/readyz: \"aws:<target group ARN>\" or \"gcp:<project>/<backend service>/<region>/<instance group>\" (the load balancer's own target health); \"\" leaves /region/readyz unconfigured."
  default     = ""

  validation {
    condition     = var.region_health_source == "" || can(regex("^(aws:arn:[a-z-]+:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/.+|gcp:[^/]+/[^/]+/[^/]+/[^/]+)$", var.region_health_source))
    error_message = "region_health_source must be \"\", aws:<target group ARN> or gcp:<project>/<backend service>/<region>/<instance group>."
  }
}

variable "region_min_ready" {
  type        = number
  description = "/region/readyz answers OK while at least this many of the region's nodes are ready (the spec's geo.min_ready_nodes)."
  default     = 1

  validation {
    condition     = var.region_min_ready >= 1 && floor(var.region_min_ready) == var.region_min_ready
    error_message = "region_min_ready must be a whole number of at least 1."
  }
}

variable "boot_grace_seconds" {
  type        = number
  description = "Seconds after the agent starts (at boot) during which /healthz answers OK until the node first answers: restoring and starting is not a failure. 0: no grace (a node that does not answer is not live)."
  default     = 0

  validation {
    condition     = var.boot_grace_seconds >= 0 && var.boot_grace_seconds <= 86400
    error_message = "boot_grace_seconds must be between 0 and 86400."
  }
}

variable "replace_unhealthy" {
  type        = string
  description = "\"aws\": the agent marks its own instance Unhealthy in its Auto Scaling group (SetInstanceHealth) once liveness has failed past the boot grace for replace_after_seconds, so the group replaces it (the group's health type is EC2; readiness only routes traffic). \"\" disables."
  default     = ""

  validation {
    condition     = contains(["", "aws"], var.replace_unhealthy)
    error_message = "replace_unhealthy must be \"\" or \"aws\"."
  }
}

variable "replace_after_seconds" {
  type        = number
  description = "With replace_unhealthy: seconds liveness must fail without a break before the agent marks the instance Unhealthy."
  default     = 300

  validation {
    condition     = var.replace_after_seconds >= 30 && var.replace_after_seconds <= 3600
    error_message = "replace_after_seconds must be between 30 and 3600."
  }
}
