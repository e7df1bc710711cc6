# A private bucket as the deployment makes them (the snapshot and state buckets are built on
# this module): its own KMS key, versioned, never public, TLS only.

provider "aws" {
  region = "us-east-1"
}

module "bucket" {
  source = "../../modules/aws-bucket"

  bucket          = "icon-api-example-private"
  key_description = "Example objects in icon-api-example-private"
  noncurrent_days = 30
}

output "bucket_arn" {
  value = module.bucket.bucket_arn
}
