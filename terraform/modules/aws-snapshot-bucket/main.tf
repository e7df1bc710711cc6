# One snapshot bucket per region: encrypted with its own KMS key, versioned, never public,
# superseded objects expire. The module also defines the two IAM policies nodes get: read
# for every node, read-write for the source-of-truth node; the bucket policy denies writes
# to everyone else.

data "aws_caller_identity" "this" {}
data "aws_partition" "this" {}

resource "aws_kms_key" "this" {
  description         = "Snapshots in ${var.bucket}"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

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

resource "aws_kms_alias" "this" {
  name          = "alias/${var.bucket}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18: snapshot objects are written by one known role; S3 server access logs would add a second bucket per region for no security gain (CloudTrail data events can be enabled account-wide)
  #checkov:skip=CKV_AWS_144: snapshots are reproducible from the chain and each region has its own bucket; cross-region replication would double storage of 1.5-2 TB per region
  #checkov:skip=CKV2_AWS_62: nothing consumes bucket events; the manifest is the publication mechanism
  bucket        = var.bucket
  force_destroy = var.force_destroy
  tags          = var.tags
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
    id     = "expire-superseded"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_days
    }

    expiration {
      expired_object_delete_marker = true
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

  dynamic "statement" {
    for_each = length(var.writer_role_arns) > 0 ? [1] : []

    content {
      sid       = "OnlyTheSourceNodeWrites"
      effect    = "Deny"
      actions   = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

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

resource "aws_s3_bucket_policy" "this" {
  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.bucket.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

data "aws_iam_policy_document" "read" {
  statement {
    sid       = "ListSnapshots"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.this.arn]
  }

  statement {
    sid       = "ReadSnapshots"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
  }

  statement {
    sid       = "DecryptSnapshots"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

data "aws_iam_policy_document" "write" {
  source_policy_documents = [data.aws_iam_policy_document.read.json]

  statement {
    sid       = "WriteSnapshots"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
  }

  statement {
    sid       = "EncryptSnapshots"
    actions   = ["kms:GenerateDataKey", "kms:Encrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_policy" "read" {
  name_prefix = substr("${var.bucket}-read-", 0, 96)
  description = "Read snapshots from ${var.bucket}"
  policy      = data.aws_iam_policy_document.read.json
  tags        = var.tags
}

resource "aws_iam_policy" "write" {
  name_prefix = substr("${var.bucket}-write-", 0, 96)
  description = "Read and write snapshots in ${var.bucket}"
  policy      = data.aws_iam_policy_document.write.json
  tags        = var.tags
}
