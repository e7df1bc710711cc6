# Bootstrap of the S3 bucket that holds every stack's Terraform state (the shared aws-bucket
# module: versioned, so old states can be recovered, encrypted with its own KMS key, never
# public, TLS only, never destroyed by Terraform). Locking uses S3 lock files (Terraform >=
# 1.10, use_lockfile = true), or the optional DynamoDB table. This stack itself keeps its
# state locally: it creates the place remote state lives.

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

module "bucket" {
  source = "../aws-bucket"

  bucket                  = aws_s3_bucket.this.id
  bucket_arn              = aws_s3_bucket.this.arn
  key_description         = "Terraform state in ${var.bucket}"
  noncurrent_days         = var.noncurrent_days
  expiry_rule_id          = "expire-old-states"
  expire_delete_markers   = false
  deny_insecure_transport = var.deny_insecure_transport
  tags                    = var.tags
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
    kms_key_arn = module.bucket.kms_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }
}

# A state bucket made before the shared module moves into it: an upgrade must never
# destroy the bucket that holds every stack's state.
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
  to   = module.bucket.aws_s3_bucket_policy.this
}
