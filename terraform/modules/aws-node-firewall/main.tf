# The security group of an ICON node, single or autoscaled: p2p open to everyone, the
# public ports a single node serves itself, the proxy and agent ports from the load
# balancer's group, the agent from listed ranges, goloop's /metrics and the exporters from
# the regional Prometheus only, SSH from operators only, and all egress (peers, package
# mirrors, the snapshot bucket). The RPC port itself is never opened to anyone else.

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5: the group is attached by the calling module (the node's instance or launch template) through the security_group_id output, which checkov does not follow through nested modules
  name_prefix = var.name_prefix
  description = var.description
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.name_tag })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "p2p" {
  security_group_id = aws_security_group.this.id
  description       = "ICON peer-to-peer"
  ip_protocol       = "tcp"
  from_port         = var.p2p_port
  to_port           = var.p2p_port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "web" {
  for_each = toset([for port in var.public_ports : tostring(port)])

  security_group_id = aws_security_group.this.id
  description       = "Public JSON-RPC through the reverse proxy (80 for the ACME challenge and redirect)"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "from_lb" {
  # Keyed by the ports alone: the load balancer's group is often unknown until apply.
  for_each = toset([for port in var.lb_ports : tostring(port)])

  security_group_id            = aws_security_group.this.id
  description                  = "Proxy traffic and /readyz health checks from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
  referenced_security_group_id = var.lb_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "agent" {
  for_each = toset(var.agent_cidrs)

  security_group_id = aws_security_group.this.id
  description       = var.agent_rule_description
  ip_protocol       = "tcp"
  from_port         = var.agent_port
  to_port           = var.agent_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "metrics" {
  # goloop's /metrics on the RPC port and the exporters, from the regional Prometheus only.
  for_each = {
    for pair in setproduct(var.monitoring_cidrs, var.exporter_ports) :
    "${pair[0]} ${pair[1]}" => { cidr = pair[0], port = pair[1] }
  }

  security_group_id = aws_security_group.this.id
  description       = "Node and exporter metrics for Prometheus"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each = toset(var.ssh_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "SSH from operators"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.this.id
  description       = var.egress_description
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
