variable "project" {
  type        = string
  description = "Project of the firewall rules."
}

variable "network" {
  type        = string
  description = "VPC network (self link) the rules belong to."
}

variable "target_tag" {
  type        = string
  description = "Network tag of the nodes: the rules apply to it and are named after it (<target_tag>-p2p, -web, -lb, -agent, -metrics, -ssh)."
}

variable "p2p_port" {
  type        = number
  description = "Node peer-to-peer port, open to everyone."
}

variable "public_ports" {
  type        = list(number)
  description = "Ports open to everyone for JSON-RPC through the node's own reverse proxy (a single node: 80 and 443); empty behind a load balancer."
  default     = []
}

variable "lb_source_ranges" {
  type        = list(string)
  description = "Ranges the load balancers and their health checks connect from, allowed to lb_ports; 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.lb_source_ranges, "0.0.0.0/0")
    error_message = "lb_source_ranges must not contain 0.0.0.0/0."
  }
}

variable "lb_ports" {
  type        = list(number)
  description = "Ports the load balancer reaches: the reverse proxy and the agent (/readyz); empty: no load balancer rule."
  default     = []
}

variable "agent_port" {
  type        = number
  description = "Port of the health and metrics agent."
  default     = 9900
}

variable "agent_cidrs" {
  type        = list(string)
  description = "Ranges allowed to the agent port (monitoring, health checkers); 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.agent_cidrs, "0.0.0.0/0")
    error_message = "agent_cidrs must not contain 0.0.0.0/0."
  }
}

variable "monitoring_cidrs" {
  type        = list(string)
  description = "CIDRs of the regional Prometheus servers: they may reach exporter_ports; 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.monitoring_cidrs, "0.0.0.0/0")
    error_message = "monitoring_cidrs must not contain 0.0.0.0/0."
  }
}

variable "exporter_ports" {
  type        = list(number)
  description = "Ports opened to monitoring_cidrs: the exporters the regional Prometheus scrapes (and the agent's, where no agent rule admits monitoring)."
  default     = []

  validation {
    condition     = alltrue([for port in var.exporter_ports : port >= 1024 && port <= 65535])
    error_message = "exporter_ports must be unprivileged ports (1024-65535)."
  }
}

variable "metrics_rule_description" {
  type        = string
  description = "Description of the metrics rule (what the ports are)."
  default     = "Node and exporter metrics for Prometheus"
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
