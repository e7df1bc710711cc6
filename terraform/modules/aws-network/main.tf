# A VPC with one public subnet per availability zone, or an existing VPC passed through.
# Nodes need public addresses for peer-to-peer traffic, so there are no private subnets and
# no NAT gateways to pay for.

locals {
  create = var.vpc_id == null
}

data "aws_availability_zones" "this" {
  count = local.create ? 1 : 0
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }

  # A closed list of zone names, so a zone AWS opens later never joins silently.
  filter {
    name   = "zone-name"
    values = length(var.zones) > 0 ? var.zones : [for letter in ["a", "b", "c", "d", "e", "f"] : "${data.aws_region.this.name}${letter}"]
  }
}

module "plan" {
  source = "../network-plan"
  count  = local.create ? 1 : 0

  cidr_block = var.cidr_block
  zones      = slice(data.aws_availability_zones.this[0].names, 0, min(var.zone_count, length(data.aws_availability_zones.this[0].names)))
}

resource "aws_vpc" "this" {
  count = local.create ? 1 : 0

  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name })
}

# Lock down the default security group so nothing uses it by accident.
resource "aws_default_security_group" "this" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = merge(var.tags, { Name = "${var.name}-default-closed" })
}

resource "aws_internet_gateway" "this" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  #checkov:skip=CKV_AWS_130: ICON nodes need public addresses: the p2p port must be reachable by other nodes
  for_each = local.create ? module.plan[0].public_subnets : {}

  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = each.key
  cidr_block              = each.value
  map_public_ip_on_launch = true
  tags                    = merge(var.tags, { Name = "${var.name}-public-${each.key}" })
}

resource "aws_route_table" "public" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }

  tags = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public[0].id
}

# Flow logs of rejected traffic: enough to see scans and misconfigured rules, cheap to keep.
resource "aws_kms_key" "logs" {
  count = local.create && var.flow_log_retention_days > 0 ? 1 : 0

  description         = "${var.name} VPC flow logs"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.logs_key[0].json
  tags                = var.tags
}

data "aws_caller_identity" "this" {}
data "aws_region" "this" {}
data "aws_partition" "this" {}

data "aws_iam_policy_document" "logs_key" {
  #checkov:skip=CKV_AWS_109: this is a KMS key policy: Resource "*" means the key itself, and the account root statement is the standard key administration grant
  #checkov:skip=CKV_AWS_111: KMS key policy, see above
  #checkov:skip=CKV_AWS_356: KMS key policy, see above
  count = local.create && var.flow_log_retention_days > 0 ? 1 : 0

  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.this.partition}:iam::${data.aws_caller_identity.this.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypt"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.this.name}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.this.partition}:logs:${data.aws_region.this.name}:${data.aws_caller_identity.this.account_id}:log-group:/vpc/${var.name}"]
    }
  }
}

resource "aws_cloudwatch_log_group" "flow" {
  count = local.create && var.flow_log_retention_days > 0 ? 1 : 0

  name              = "/vpc/${var.name}"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = aws_kms_key.logs[0].arn
  tags              = var.tags
}

data "aws_iam_policy_document" "flow_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "flow_write" {
  count = local.create && var.flow_log_retention_days > 0 ? 1 : 0

  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow[0].arn}:*"]
  }
}

resource "aws_iam_role" "flow" {
  count = local.create && var.flow_log_retention_days > 0 ? 1 : 0

  name_prefix        = substr("${var.name}-flow-", 0, 38)
  assume_role_policy = data.aws_iam_policy_document.flow_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "flow" {
  count = local.create && var.flow_log_retention_days > 0 ? 1 : 0

  name   = "write-flow-logs"
  role   = aws_iam_role.flow[0].id
  policy = data.aws_iam_policy_document.flow_write[0].json
}

resource "aws_flow_log" "this" {
  count = local.create && var.flow_log_retention_days > 0 ? 1 : 0

  vpc_id          = aws_vpc.this[0].id
  traffic_type    = "REJECT"
  log_destination = aws_cloudwatch_log_group.flow[0].arn
  iam_role_arn    = aws_iam_role.flow[0].arn
  tags            = var.tags
}

check "existing_vpc_needs_subnets" {
  assert {
    condition     = local.create || length(var.subnet_ids) > 0
    error_message = "subnet_ids must list the public subnets to use when vpc_id is given."
  }
}
