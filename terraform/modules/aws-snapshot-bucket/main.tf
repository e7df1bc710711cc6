# One snapshot bucket per region (the shared aws-bucket module: its own KMS key, versioned,
# never public, TLS only, superseded objects expire) and the two IAM policies nodes get:
# read for every node, read-write for the source-of-truth node; the bucket policy denies
# writes to everyone else.

module "bucket" {
  source = "../aws-bucket"

  bucket           = var.bucket
  key_description  = "Snapshots in ${var.bucket}"
  force_destroy    = var.force_destroy
  noncurrent_days  = var.noncurrent_days
  writer_role_arns = var.writer_role_arns
  tags             = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.bucket}"
  target_key_id = module.bucket.kms_key_id
}

data "aws_iam_policy_document" "read" {
  statement {
    sid       = "ListSnapshots"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [module.bucket.bucket_arn]
  }

  statement {
    sid       = "ReadSnapshots"
    actions   = ["s3:GetObject"]
    resources = ["${module.bucket.bucket_arn}/*"]
  }

  statement {
    sid       = "DecryptSnapshots"
    actions   = ["kms:Decrypt"]
    resources = [module.bucket.kms_key_arn]
  }
}

data "aws_iam_policy_document" "write" {
  source_policy_documents = [data.aws_iam_policy_document.read.json]

  statement {
    sid       = "WriteSnapshots"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${module.bucket.bucket_arn}/*"]
  }

  statement {
    sid       = "EncryptSnapshots"
    actions   = ["kms:GenerateDataKey", "kms:Encrypt"]
    resources = [module.bucket.kms_key_arn]
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

# Buckets made before the shared module move into it: an upgrade keeps every snapshot.
moved {
  from = aws_kms_key.this
  to   = module.bucket.aws_kms_key.this
}

moved {
  from = aws_s3_bucket.this
  to   = module.bucket.aws_s3_bucket.this[0]
}

moved {
  from = aws_s3_bucket_ownership_controls.this
  to   = module.bucket.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_public_access_block.this
  to   = module.bucket.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_versioning.this
  to   = module.bucket.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.this
  to   = module.bucket.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.this
  to   = module.bucket.aws_s3_bucket_lifecycle_configuration.this
}

moved {
  from = aws_s3_bucket_policy.this
  to   = module.bucket.aws_s3_bucket_policy.this[0]
}
