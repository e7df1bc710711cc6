# One EC2 node with a fixed public address: a citizen node serving JSON-RPC through its own
# reverse proxy with a Let's Encrypt certificate, or (role = "source") the source-of-truth
# node that takes the region's snapshots.

locals {
  sync       = var.snapshot_store != ""
  tls_domain = var.public_rpc && var.tls_email != null && length(var.dns_names) > 0 ? var.dns_names[0] : null
  data_disks = var.data_volume_size_gb > 0 ? "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_*" : "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*"
}

data "aws_ami" "debian" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian's official AWS account

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

module "user_data" {
  source = "../user-data"

  role                       = var.role
  image_mode                 = var.image_mode
  compose_env                = var.compose_env
  network                    = var.network
  node_image                 = var.node_image
  rpc_port                   = var.rpc_port
  p2p_port                   = var.p2p_port
  agent_port                 = var.agent_port
  data_disks                 = local.data_disks
  snapshot_store             = var.snapshot_store
  sync_interval_minutes      = var.sync_interval_minutes
  sync_keep                  = var.sync_keep
  tls_domain                 = local.tls_domain
  tls_email                  = local.tls_domain == null ? null : var.tls_email
  metrics_on_private_address = var.metrics_on_private_address || length(var.monitoring_cidrs) > 0
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name_prefix        = substr("${var.name}-", 0, 38)
  description        = "ICON ${var.role} ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "snapshots" {
  count = local.sync ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = var.role == "source" ? var.snapshot_write_policy_arn : var.snapshot_read_policy_arn
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = substr("${var.name}-", 0, 38)
  role        = aws_iam_role.this.name
  tags        = var.tags
}

module "firewall" {
  source = "../aws-node-firewall"

  name_prefix            = "${var.name}-"
  description            = "ICON ${var.role} ${var.name}"
  name_tag               = var.name
  vpc_id                 = var.vpc_id
  p2p_port               = var.p2p_port
  public_ports           = var.public_rpc ? [80, 443] : []
  agent_port             = var.agent_port
  agent_cidrs            = concat(var.monitoring_cidrs, var.health_checker_cidrs)
  agent_rule_description = "Agent health and metrics from monitoring and health checkers"
  monitoring_cidrs       = var.monitoring_cidrs
  exporter_ports         = var.exporter_ports
  ssh_cidrs              = var.ssh_cidrs
  egress_description     = "Peers, package mirrors, snapshot bucket, Let's Encrypt"
  tags                   = var.tags
}

resource "aws_instance" "this" {
  ami                    = coalesce(var.ami_id, try(data.aws_ami.debian[0].id, null))
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  vpc_security_group_ids = [module.firewall.security_group_id]
  iam_instance_profile   = aws_iam_instance_profile.this.name
  key_name               = var.key_name
  user_data              = module.user_data.cloud_config
  ebs_optimized          = true
  monitoring             = var.detailed_monitoring

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2 #checkov:skip=CKV_AWS_341: the restore, snapshot and agent containers reach the instance profile through Docker's bridge, one hop more; IMDSv2 stays required
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    delete_on_termination = true
  }

  dynamic "ebs_block_device" {
    for_each = var.data_volume_size_gb > 0 ? [1] : []

    content {
      device_name           = "/dev/sdf"
      volume_type           = "gp3"
      volume_size           = var.data_volume_size_gb
      iops                  = var.data_volume_iops
      throughput            = var.data_volume_throughput
      encrypted             = true
      delete_on_termination = true
    }
  }

  tags        = merge(var.tags, { Name = var.name, "iconctl-role" = var.role })
  volume_tags = merge(var.tags, { Name = var.name })

  lifecycle {
    ignore_changes = [ami]

    precondition {
      condition     = !local.sync || (var.role == "source" ? var.snapshot_write_policy_arn != null : var.snapshot_read_policy_arn != null)
      error_message = "with snapshot_store set, a node needs snapshot_read_policy_arn and a source node snapshot_write_policy_arn."
    }
  }
}

resource "aws_eip" "this" {
  domain   = "vpc"
  instance = aws_instance.this.id
  tags     = merge(var.tags, { Name = var.name })
}

resource "aws_route53_record" "this" {
  for_each = var.route53_zone_id != "" ? toset(var.dns_names) : toset([])

  zone_id = var.route53_zone_id
  name    = each.value
  type    = "A"
  ttl     = 60
  records = [aws_eip.this.public_ip]
}

# The security group and its rules before the shared module move into it.
moved {
  from = aws_security_group.this
  to   = module.firewall.aws_security_group.this
}

moved {
  from = aws_vpc_security_group_ingress_rule.p2p
  to   = module.firewall.aws_vpc_security_group_ingress_rule.p2p
}

moved {
  from = aws_vpc_security_group_ingress_rule.web
  to   = module.firewall.aws_vpc_security_group_ingress_rule.web
}

moved {
  from = aws_vpc_security_group_ingress_rule.agent
  to   = module.firewall.aws_vpc_security_group_ingress_rule.agent
}

moved {
  from = aws_vpc_security_group_ingress_rule.metrics
  to   = module.firewall.aws_vpc_security_group_ingress_rule.metrics
}

moved {
  from = aws_vpc_security_group_ingress_rule.ssh
  to   = module.firewall.aws_vpc_security_group_ingress_rule.ssh
}

moved {
  from = aws_vpc_security_group_egress_rule.all
  to   = module.firewall.aws_vpc_security_group_egress_rule.all
}
