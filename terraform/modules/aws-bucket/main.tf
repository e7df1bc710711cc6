# What makes an S3 bucket of a deployment private, for every bucket (the snapshot buckets
# and the Terraform state bucket): its own KMS key (rotated), bucket-owner-enforced
# ownership, public access blocked, versioning, default encryption with that key, old
# versions expiring, and a bucket policy that refuses plain HTTP and, with writer_role_arns,
# writes by anyone else. The aws_s3_bucket itself stays with the caller: only there can it
# carry prevent_destroy (a literal in Terraform), as the state bucket does. What else differs
# (IAM policies for readers, a lock table) stays in the caller too.

data "aws_caller_identity" "this" {}
data "aws_partition" "this" {}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109: this is a KMS key policy: Resource "*" means the key itself, and the account root statement is the standard key administration grant
  #checkov:skip=CKV_AWS_111: KMS key policy, see above
  #checkov:skip=CKV_AWS_356: KMS key policy, see above
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.this.partition}:iam::${data.aws_caller_identity.this.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description         = var.key_description
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = var.bucket

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = var.bucket

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = var.bucket

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = var.bucket

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket     = var.bucket
  depends_on = [aws_s3_bucket_versioning.this]

  rule {
    id     = var.expiry_rule_id
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_days
    }

    dynamic "expiration" {
      for_each = var.expire_delete_markers ? [1] : []

      content {
        expired_object_delete_marker = true
      }
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [var.bucket_arn, "${var.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = length(var.writer_role_arns) > 0 ? [1] : []

    content {
      sid       = "OnlyTheSourceNodeWrites" # the snapshot buckets' writer; kept so their policy stays as it was
      effect    = "Deny"
      actions   = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"]
      resources = ["${var.bucket_arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "StringNotEquals"
        variable = "aws:PrincipalArn"
        values   = var.writer_role_arns
      }
    }
  }
}

# Always on against AWS; off only for a local AWS emulator that ignores policy conditions
# and so denies every request (moto, see docs/terraform.md).
resource "aws_s3_bucket_policy" "this" {
  count = var.deny_insecure_transport ? 1 : 0

  bucket     = var.bucket
  policy     = data.aws_iam_policy_document.bucket.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}
