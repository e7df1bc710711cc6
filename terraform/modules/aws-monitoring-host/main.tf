# A region's private monitoring host: one instance with no public address in a private subnet
# of the region's VPC, reached by operators and Ansible through AWS Systems Manager Session
# Manager only. Nothing is admitted from outside except the regional Prometheus port (9090)
# from federation_cidrs, for federation over a private link. The nodes' security groups admit
# the host's own group on the ports it scrapes.

locals {
  create_subnet = var.subnet_id == null
  vpc_bits      = try(tonumber(split("/", var.vpc_cidr_block)[1]), 16)
  # The last /26 of the VPC: the region's public subnets are carved from the start of the
  # range (network-plan), so the end stays free.
  subnet_cidr = coalesce(var.private_subnet_cidr, try(cidrsubnet(var.vpc_cidr_block, 26 - local.vpc_bits, pow(2, 26 - local.vpc_bits) - 1), null), "unset")
  # The data volume's attachment name; Nitro instances show it as an NVMe device named after
  # the volume id (outputs.tf, data_device), which the role mounts.
  data_device_name = "/dev/sdf"
  ssm_policy       = "arn:${data.aws_partition.this.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
  # Graviton types (a1, and a "g" after the generation: t4g, m7gd, c6gn, ...) run arm64: the
  # image and the Session Manager agent follow the instance type.
  arm64 = can(regex("^(a1|[a-z]+[0-9]+g[a-z]*)\\.", var.instance_type))
  user_data = templatefile("${path.module}/templates/ssm-agent.sh.tftpl", {
    region = var.region
    arch   = local.arm64 ? "arm64" : "amd64"
  })
}

data "aws_partition" "this" {}

data "aws_subnet" "public" {
  count = local.create_subnet ? 1 : 0
  id    = var.public_subnet_id
}

data "aws_subnet" "given" {
  count = local.create_subnet ? 0 : 1
  id    = var.subnet_id
}

data "aws_ami" "debian" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian's official AWS account

  filter {
    name   = "name"
    values = [local.arm64 ? "debian-12-arm64-*" : "debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = [local.arm64 ? "arm64" : "x86_64"]
  }
}

# -- identity: EC2 discovery (read-only) and Session Manager ----------------------------------

module "discovery" {
  source = "../aws-monitoring-discovery"

  name   = var.name
  region = var.region
  tags   = var.tags
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = module.discovery.role_name
  policy_arn = local.ssm_policy
}

# -- network: a private subnet whose outbound traffic leaves through a NAT gateway ------------

resource "aws_subnet" "private" {
  count = local.create_subnet ? 1 : 0

  vpc_id                  = var.vpc_id
  availability_zone       = data.aws_subnet.public[0].availability_zone
  cidr_block              = local.subnet_cidr
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-monitoring" })

  lifecycle {
    precondition {
      condition     = local.subnet_cidr != "unset"
      error_message = "the VPC's range is unknown (a reused VPC): set private_subnet_cidr or subnet_id."
    }
  }
}

resource "aws_eip" "nat" {
  count = local.create_subnet ? 1 : 0

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-monitoring-nat" })
}

resource "aws_nat_gateway" "this" {
  count = local.create_subnet ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = var.public_subnet_id
  tags          = merge(var.tags, { Name = "${var.name}-monitoring" })
}

resource "aws_route_table" "private" {
  count  = local.create_subnet ? 1 : 0
  vpc_id = var.vpc_id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[0].id
  }

  tags = merge(var.tags, { Name = "${var.name}-monitoring" })
}

resource "aws_route_table_association" "private" {
  count = local.create_subnet ? 1 : 0

  subnet_id      = aws_subnet.private[0].id
  route_table_id = aws_route_table.private[0].id
}

# -- firewall ---------------------------------------------------------------------------------

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-monitoring-"
  description = "Private monitoring host of ${var.name}: federation from federation_cidrs only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-monitoring" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "federation" {
  for_each = toset(var.federation_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "Regional Prometheus for the global Prometheus (federation)"
  ip_protocol       = "tcp"
  from_port         = var.prometheus_port
  to_port           = var.prometheus_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.this.id
  description       = "Scrapes, Session Manager, EC2 API, package mirrors, alert receivers"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

# The nodes admit this host's group on the ports it scrapes.
resource "aws_vpc_security_group_ingress_rule" "scrape" {
  for_each = {
    for pair in setproduct(range(length(var.node_security_group_ids)), var.scrape_ports) :
    "${pair[0]}-${pair[1]}" => { group = var.node_security_group_ids[pair[0]], port = pair[1] }
  }

  security_group_id            = each.value.group
  description                  = "Metrics for the region's monitoring host"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.this.id
  tags                         = var.tags
}

# -- the host ---------------------------------------------------------------------------------

# No public address: the subnet assigns none (checked by the precondition for a given
# subnet). Not through associate_public_ip_address, which makes the provider describe the
# network interface itself and adds nothing to the subnet's setting.
resource "aws_instance" "this" {
  ami                    = coalesce(var.ami_id, try(data.aws_ami.debian[0].id, null))
  instance_type          = var.instance_type
  subnet_id              = local.create_subnet ? aws_subnet.private[0].id : var.subnet_id
  vpc_security_group_ids = [aws_security_group.this.id]
  iam_instance_profile   = module.discovery.instance_profile_name
  key_name               = var.key_name
  ebs_optimized          = true
  monitoring             = var.detailed_monitoring
  # Installs and starts the Session Manager agent at first boot. A changed script stops and
  # starts the host in place rather than replacing it (cloud-init runs it on first boot only).
  user_data                   = local.user_data
  user_data_replace_on_change = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = 16
    encrypted             = true
    delete_on_termination = true
    tags                  = merge(var.tags, { Name = "${var.name}-monitoring-root" })
  }

  tags = merge(var.tags, { Name = "${var.name}-monitoring", "iconctl-role" = "monitoring" })

  lifecycle {
    ignore_changes = [ami]

    precondition {
      condition     = local.create_subnet || !try(data.aws_subnet.given[0].map_public_ip_on_launch, true)
      error_message = "subnet_id must be a private subnet: it assigns public addresses on launch."
    }
  }

  # The first boot downloads the agent: the NAT route must exist, and the policy be attached
  # before the agent registers.
  depends_on = [
    aws_nat_gateway.this,
    aws_route_table.private,
    aws_route_table_association.private,
    aws_iam_role_policy_attachment.ssm,
  ]
}

# The data volume is its own resource, not an inline block: a new volume_gib grows it in place
# (ModifyVolume) instead of replacing the host with a new address and an empty disk.
resource "aws_ebs_volume" "data" {
  #checkov:skip=CKV_AWS_189: encrypted with the account's AWS-managed EBS key like the root volume; a customer-managed key would add a key and its policy to keep for metrics data
  availability_zone = aws_instance.this.availability_zone
  type              = "gp3"
  size              = var.volume_gib
  encrypted         = true
  tags              = merge(var.tags, { Name = "${var.name}-monitoring-data" })
}

resource "aws_volume_attachment" "data" {
  device_name = local.data_device_name
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.this.id
  # Detaching a mounted volume from a running host could hang or lose writes.
  stop_instance_before_detaching = true
}
