# One snapshot bucket per region (made private by the shared aws-bucket module: its own KMS key, versioned,
# never public, TLS only, superseded objects expire) and the two IAM policies nodes get:
# read for every node, read-write for the source-of-truth node; the bucket policy denies
# writes to everyone else.

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18: snapshot objects are written by one known role; S3 server access logs would add a second bucket per region for no security gain (CloudTrail data events can be enabled account-wide)
  #checkov:skip=CKV_AWS_144: snapshots are reproducible from the chain and each region has its own bucket; cross-region replication would double storage of 1.5-2 TB per region
  #checkov:skip=CKV2_AWS_62: nothing consumes bucket events; the manifest is the publication mechanism
  #checkov:skip=CKV2_AWS_6: the public access block is made by the aws-bucket module from this bucket's id; checkov does not follow a module input when this module is called with count
  #checkov:skip=CKV2_AWS_61: the lifecycle configuration is made by the aws-bucket module from this bucket's id; checkov does not follow a module input when this module is called with count
  #checkov:skip=CKV_AWS_21: versioning is made by the aws-bucket module from this bucket's id (checked in the plan test); checkov does not follow a module input under count
  #checkov:skip=CKV_AWS_19: default encryption is made by the aws-bucket module from this bucket's id (checked in the plan test); checkov does not follow a module input under count
  #checkov:skip=CKV_AWS_145: KMS default encryption is made by the aws-bucket module (checked in the plan test); checkov does not follow a module input under count
  bucket        = var.bucket
  force_destroy = var.force_destroy
  tags          = var.tags
}

module "bucket" {
  source = "../aws-bucket"

  bucket           = aws_s3_bucket.this.id
  bucket_arn       = aws_s3_bucket.this.arn
  key_description  = "Snapshots in ${var.bucket}"
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
    resources = [module.bucket.kms_key_arn]
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
