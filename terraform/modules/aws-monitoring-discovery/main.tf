# The identity of a region's Prometheus server on AWS: an IAM role and instance profile
# that can do exactly what ec2_sd_configs needs, list the region's instances (to find the
# nodes by their iconctl-name and iconctl-role tags) and its availability zones (for the
# zone id label). Nothing else: no write, no other service.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "discovery" {
  #checkov:skip=CKV_AWS_356: EC2 Describe actions support no resource-level permissions; the resource must be "*"
  statement {
    sid       = "PrometheusEc2Discovery"
    effect    = "Allow"
    actions   = ["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances"]
    resources = ["*"]

    # Only in the region this Prometheus monitors.
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.region]
    }
  }
}

resource "aws_iam_role" "this" {
  name_prefix        = substr("${var.name}-prom-", 0, 38)
  description        = "Prometheus service discovery for ${var.name} (read-only)"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "discovery" {
  name_prefix = "ec2-discovery-"
  role        = aws_iam_role.this.id
  policy      = data.aws_iam_policy_document.discovery.json
}

resource "aws_iam_instance_profile" "this" {
  name_prefix = substr("${var.name}-prom-", 0, 38)
  role        = aws_iam_role.this.name
  tags        = var.tags
}
