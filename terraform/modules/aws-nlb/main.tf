# A network load balancer terminating TLS with an ACM certificate validated through Route 53,
# forwarding to the nodes' reverse proxy. Targets are healthy while the agent's /readyz
# answers 200, so a node that falls behind the chain stops receiving traffic.

resource "aws_acm_certificate" "this" {
  domain_name               = var.domain
  subject_alternative_names = var.regional_hostname == var.domain ? [] : [var.regional_hostname]
  validation_method         = "DNS"
  tags                      = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for option in aws_acm_certificate.this.domain_validation_options : option.domain_name => option
  }

  zone_id         = var.route53_zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-lb-"
  description = "ICON load balancer ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-lb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "tls" {
  security_group_id = aws_security_group.this.id
  description       = "Public JSON-RPC over TLS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "agent" {
  for_each = toset(var.health_checker_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "Global load balancer health checks of /readyz"
  ip_protocol       = "tcp"
  from_port         = var.agent_port
  to_port           = var.agent_port
  cidr_ipv4         = each.value
}

data "aws_vpc" "this" {
  id = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "targets" {
  for_each = toset([for port in distinct([var.backend_port, var.agent_port]) : tostring(port)])

  security_group_id = aws_security_group.this.id
  description       = "To the nodes' proxy and agent"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = data.aws_vpc.this.cidr_block
}

resource "aws_lb" "this" {
  name                             = var.name
  load_balancer_type               = "network"
  internal                         = false
  subnets                          = var.subnet_ids
  security_groups                  = [aws_security_group.this.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = var.deletion_protection
  tags                             = var.tags

  dynamic "access_logs" {
    for_each = var.access_logs_bucket != "" ? [1] : []

    content {
      bucket  = var.access_logs_bucket
      prefix  = var.name
      enabled = true
    }
  }
}

resource "aws_lb_target_group" "rpc" {
  name                 = "${var.target_group_prefix}-rpc"
  port                 = var.backend_port
  protocol             = "TCP"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  deregistration_delay = var.deregistration_delay
  tags                 = var.tags

  health_check {
    protocol            = "HTTP"
    port                = tostring(var.agent_port)
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  target_group_health {
    dns_failover {
      minimum_healthy_targets_count = tostring(var.min_healthy_targets)
    }
  }
}

resource "aws_lb_target_group" "agent" {
  count = length(var.health_checker_cidrs) > 0 ? 1 : 0

  name                 = "${var.target_group_prefix}-agnt"
  port                 = var.agent_port
  protocol             = "TCP"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  deregistration_delay = 0
  tags                 = var.tags

  health_check {
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "tls" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "TLS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = aws_acm_certificate_validation.this.certificate_arn
  alpn_policy       = "HTTP1Only"
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.rpc.arn
  }
}

resource "aws_lb_listener" "agent" {
  count = length(var.health_checker_cidrs) > 0 ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = var.agent_port
  protocol          = "TCP"
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.agent[0].arn
  }
}

resource "aws_route53_record" "alias" {
  for_each = toset(var.publish_domain ? [var.regional_hostname, var.domain] : [var.regional_hostname])

  zone_id = var.route53_zone_id
  name    = each.value
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
