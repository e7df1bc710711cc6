# The autoscaling group of serving nodes: a launch template from the baked image, the
# chain on instance-store NVMe (striped at boot, restored from the region's snapshot), an
# instance refresh that waits out each new node's boot grace, a termination hook that gives a
# node time to drain, and target-tracking scaling.
#
# Replacement acts on liveness, routing on readiness: the group's health type is EC2, the
# load balancer's target group checks /readyz, and the agent on each node marks its own
# instance Unhealthy (autoscaling:SetInstanceHealth, on this group only) once /healthz has
# failed past the boot grace. A node restoring 2 TB or catching up gets no traffic and is not
# replaced (docs/agent.md, "Liveness and replacement").

locals {
  image_mode = var.ami_id == null ? "container" : "baked"
  sync       = var.snapshot_store != ""
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

  role                       = "node"
  image_mode                 = local.image_mode
  compose_env                = var.compose_env
  network                    = var.network
  node_image                 = var.node_image
  rpc_port                   = var.rpc_port
  p2p_port                   = var.p2p_port
  agent_port                 = var.agent_port
  proxy_port                 = var.backend_port
  data_disks                 = var.data_volume_size_gb > 0 ? "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_*" : "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*"
  snapshot_store             = var.snapshot_store
  drain_on_termination       = "aws"
  drain_seconds              = var.drain_seconds
  metrics_on_private_address = var.metrics_on_private_address || length(var.monitoring_cidrs) > 0
  region_health_source       = var.region_health ? "aws:${var.region_health_target_group_arn}" : ""
  region_min_ready           = var.min_ready_nodes
  boot_grace_seconds         = var.boot_grace_seconds
  replace_unhealthy          = "aws"
  replace_after_seconds      = var.replace_after_seconds
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
  name_prefix        = substr("${var.name}-node-", 0, 38)
  description        = "ICON nodes of ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "snapshots" {
  count = local.sync ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = var.snapshot_read_policy_arn
}

# /region/readyz: the agent counts the ready targets of the region's target group. Describe
# actions of Elastic Load Balancing have no resource-level permissions; the grant is limited
# to this one read-only action in this region.
data "aws_region" "current" {}

# Whether the nodes count targets is decided at plan time (var.region_health): the target
# group's ARN is only known once the load balancer exists.
data "aws_iam_policy_document" "region_health" {
  count = var.region_health ? 1 : 0

  #checkov:skip=CKV_AWS_356: elasticloadbalancing:Describe* supports no resource-level permissions; the resource must be "*"
  statement {
    sid       = "RegionHealth"
    effect    = "Allow"
    actions   = ["elasticloadbalancing:DescribeTargetHealth"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [data.aws_region.current.name]
    }
  }
}

resource "aws_iam_role_policy" "region_health" {
  count = var.region_health ? 1 : 0

  name_prefix = "region-health-"
  role        = aws_iam_role.this.id
  policy      = data.aws_iam_policy_document.region_health[0].json
}

# The agent marks its own instance Unhealthy when liveness fails: SetInstanceHealth on this
# group and no other, named by what is known before the group exists: its name prefix and
# its Name tag. (Its ARN holds an id that turns unknown whenever the group is updated in
# place, which would rewrite the policy each time.)
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_iam_policy_document" "self_replace" {
  statement {
    sid       = "ReplaceUnhealthySelf"
    effect    = "Allow"
    actions   = ["autoscaling:SetInstanceHealth"]
    resources = ["arn:${data.aws_partition.current.partition}:autoscaling:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${var.name}-*"]

    condition {
      test     = "StringEquals"
      variable = "autoscaling:ResourceTag/Name"
      values   = ["${var.name}-node"]
    }
  }
}

resource "aws_iam_role_policy" "self_replace" {
  name_prefix = "self-replace-"
  role        = aws_iam_role.this.id
  policy      = data.aws_iam_policy_document.self_replace.json
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = substr("${var.name}-node-", 0, 38)
  role        = aws_iam_role.this.name
  tags        = var.tags
}

module "firewall" {
  source = "../aws-node-firewall"

  name_prefix            = "${var.name}-node-"
  description            = "ICON nodes of ${var.name}"
  name_tag               = "${var.name}-node"
  vpc_id                 = var.vpc_id
  p2p_port               = var.p2p_port
  lb_security_group_id   = var.lb_security_group_id
  lb_ports               = [var.backend_port, var.agent_port]
  agent_port             = var.agent_port
  agent_cidrs            = var.monitoring_cidrs
  agent_rule_description = "Agent metrics for Prometheus"
  monitoring_cidrs       = var.monitoring_cidrs
  exporter_ports         = var.exporter_ports
  ssh_cidrs              = var.ssh_cidrs
  egress_description     = "Peers, package mirrors, snapshot bucket"
  tags                   = var.tags
}

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-"
  description            = "ICON node ${var.node_image}"
  image_id               = coalesce(var.ami_id, try(data.aws_ami.debian[0].id, null))
  instance_type          = var.instance_type
  user_data              = base64encode(module.user_data.cloud_config)
  update_default_version = true
  ebs_optimized          = true
  vpc_security_group_ids = [module.firewall.security_group_id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2 #checkov:skip=CKV_AWS_341: the restore and agent containers reach the instance profile through Docker's bridge, one hop more; IMDSv2 stays required
    instance_metadata_tags      = "disabled"
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size_gb
      encrypted             = true
      delete_on_termination = true
    }
  }

  dynamic "block_device_mappings" {
    for_each = var.data_volume_size_gb > 0 ? [1] : []

    content {
      device_name = "/dev/sdf"

      ebs {
        volume_type           = "gp3"
        volume_size           = var.data_volume_size_gb
        iops                  = var.data_volume_iops
        throughput            = var.data_volume_throughput
        encrypted             = true
        delete_on_termination = true
      }
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-node", "iconctl-role" = "node" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = "${var.name}-node" })
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "this" {
  name_prefix               = "${var.name}-"
  min_size                  = var.min_size
  max_size                  = var.max_size
  vpc_zone_identifier       = var.subnet_ids
  target_group_arns         = var.target_group_arns
  health_check_type         = "EC2"
  health_check_grace_period = var.boot_grace_seconds
  default_instance_warmup   = min(var.boot_grace_seconds, 3600) # the API's maximum
  wait_for_capacity_timeout = "0"
  capacity_rebalance        = true
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]
  enabled_metrics           = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances"]

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # A new launch template version replaces nodes a few at a time; each replacement counts
  # only after its boot grace (restore and start), so the group keeps the share given here.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = var.min_healthy_percentage
      max_healthy_percentage = 110
      instance_warmup        = var.boot_grace_seconds
      auto_rollback          = true
      skip_matching          = true
    }
  }

  initial_lifecycle_hook {
    name                 = "drain"
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    default_result       = "CONTINUE"
    heartbeat_timeout    = var.drain_seconds + 120
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = "${var.name}-node" })

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    ignore_changes = [desired_capacity]

    precondition {
      condition     = var.max_size >= var.min_size
      error_message = "max_size must be at least min_size."
    }

    precondition {
      condition     = !local.sync || var.snapshot_read_policy_arn != null
      error_message = "snapshot_read_policy_arn is required when snapshot_store is set."
    }
  }
}

resource "aws_autoscaling_policy" "cpu" {
  name                   = "cpu-target"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.cpu_target_percent

    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
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
  from = aws_vpc_security_group_ingress_rule.from_lb
  to   = module.firewall.aws_vpc_security_group_ingress_rule.from_lb
}

moved {
  from = aws_vpc_security_group_ingress_rule.monitoring
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
