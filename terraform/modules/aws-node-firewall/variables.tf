variable "name_prefix" {
  type        = string
  description = "Name prefix of the security group."
}

variable "description" {
  type        = string
  description = "Description of the security group."
}

variable "name_tag" {
  type        = string
  description = "Its Name tag."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the nodes."
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

variable "lb_security_group_id" {
  type        = string
  description = "Security group of the load balancer, allowed to lb_ports (with lb_ports set)."
  default     = null
}

variable "lb_ports" {
  type        = list(number)
  description = "Ports the load balancer reaches: the reverse proxy and the agent (/readyz)."
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

variable "agent_rule_description" {
  type        = string
  description = "Description of the agent rules (who the ranges are)."
  default     = "Agent health and metrics from monitoring and health checkers"
}

variable "monitoring_cidrs" {
  type        = list(string)
  description = "CIDRs of the regional Prometheus servers: they may reach goloop's /metrics and exporter_ports; 0.0.0.0/0 is refused."
  default     = []

  validation {
    condition     = !contains(var.monitoring_cidrs, "0.0.0.0/0")
    error_message = "monitoring_cidrs must not contain 0.0.0.0/0."
  }
}

variable "exporter_ports" {
  type        = list(number)
  description = "Ports opened to monitoring_cidrs besides the agent: the exporters the regional Prometheus scrapes."
  default     = []

  validation {
    condition     = alltrue([for port in var.exporter_ports : port >= 1024 && port <= 65535])
    error_message = "exporter_ports must be unprivileged ports (1024-65535)."
  }
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

variable "egress_description" {
  type        = string
  description = "Description of the egress rule (what the node reaches)."
  default     = "Peers, package mirrors, snapshot bucket"
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the security group."
  default     = {}
}
