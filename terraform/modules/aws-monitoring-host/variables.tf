variable "name" {
  type        = string
  description = "Name prefix of the resources, e.g. icon-api-us-east-1."
}

variable "region" {
  type        = string
  description = "AWS region of the host; its EC2 discovery is limited to it."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the region's nodes."
}

variable "vpc_cidr_block" {
  type        = string
  description = "IPv4 range of the VPC; the host's private subnet is its last /26 unless private_subnet_cidr says otherwise. null for a reused VPC (then set private_subnet_cidr or subnet_id)."
  default     = null
}

variable "public_subnet_id" {
  type        = string
  description = "A public subnet of the VPC: the NAT gateway goes there and the private subnet into its zone. Unused with subnet_id."
  default     = null
}

variable "private_subnet_cidr" {
  type        = string
  description = "Range of the private subnet created for the host; null: the last /26 of vpc_cidr_block."
  default     = null
}

variable "subnet_id" {
  type        = string
  description = "An existing private subnet with outbound access (NAT or endpoints) to place the host in; null creates a private subnet and a NAT gateway."
  default     = null
}

variable "node_security_group_ids" {
  type        = list(string)
  description = "Security groups of the region's nodes; each admits the host on scrape_ports."
  default     = []
}

variable "scrape_ports" {
  type        = list(number)
  description = "Ports the host scrapes on the nodes: the agent, node_exporter, the log shipper."
  default     = [9900, 9100, 9598]

  validation {
    condition     = alltrue([for port in var.scrape_ports : port >= 1024 && port <= 65535])
    error_message = "scrape_ports must be unprivileged ports (1024-65535)."
  }
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

variable "instance_type" {
  type        = string
  description = "Instance type of the host (spec: monitoring.machine_types.aws)."
  default     = "t3.medium"
}

variable "ami_id" {
  type        = string
  description = "Image of the host; null: the official Debian 12 image."
  default     = null
}

variable "volume_gib" {
  type        = number
  description = "Size of the encrypted data volume (spec: monitoring.volume_gib)."
  default     = 50

  validation {
    condition     = var.volume_gib >= 20 && var.volume_gib <= 16384
    error_message = "volume_gib must be between 20 and 16384."
  }
}

variable "key_name" {
  type        = string
  description = "An existing EC2 key pair whose key Ansible logs in with (SSH over Session Manager); null for none."
  default     = null
}

variable "detailed_monitoring" {
  type        = bool
  description = "EC2 detailed (1-minute) monitoring of the host."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
