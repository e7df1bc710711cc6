# Bootstrap of the S3 bucket that holds every stack's Terraform state: versioned (old states
# can be recovered), encrypted with its own KMS key, never public, TLS only. Locking uses
# S3 lock files (Terraform >= 1.10, use_lockfile = true), or the optional DynamoDB table.
# This stack itself keeps its state locally: it creates the place remote state lives.

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
  description         = "Terraform state in ${var.bucket}"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18: access logging of the state bucket needs a second bucket; CloudTrail data events cover it when enabled account-wide
  #checkov:skip=CKV_AWS_144: state is small and versioned; cross-region replication is left to the operator
  #checkov:skip=CKV2_AWS_62: nothing consumes state bucket events
  bucket = var.bucket
  tags   = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket     = aws_s3_bucket.this.id
  depends_on = [aws_s3_bucket_versioning.this]

  rule {
    id     = "expire-old-states"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_days
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
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

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
}

# Always on against AWS; off only for a local AWS emulator that ignores policy conditions
# and so denies every request (moto, see docs/terraform.md).
resource "aws_s3_bucket_policy" "this" {
  count = var.deny_insecure_transport ? 1 : 0

  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.bucket.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_dynamodb_table" "lock" {
  count = var.lock_table ? 1 : 0

  name         = "${var.bucket}-lock"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"
  tags         = var.tags

  attribute {
    name = "LockID"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  point_in_time_recovery {
    enabled = true
  }
}
