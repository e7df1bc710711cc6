# A private bucket as the deployment makes them (the snapshot and state buckets are made
# private by this module): its own KMS key, versioned, never public, TLS only.

provider "aws" {
  region = "us-east-1"
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18: an example bucket; access logs would need a second bucket per bucket
  #checkov:skip=CKV_AWS_144: an example bucket; cross-region replication is left to the operator
  #checkov:skip=CKV2_AWS_62: an example bucket; nothing consumes its events
  bucket = "icon-api-example-private"
}

module "bucket" {
  source = "../../modules/aws-bucket"

  bucket          = aws_s3_bucket.this.id
  bucket_arn      = aws_s3_bucket.this.arn
  key_description = "Example objects in icon-api-example-private"
  noncurrent_days = 30
}

output "kms_key_arn" {
  value = module.bucket.kms_key_arn
}
