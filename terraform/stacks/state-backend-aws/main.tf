# Bootstrap of the remote state bucket on AWS: S3, versioned, KMS-encrypted, lock files.
# One stack per cloud, so an AWS-only deployment needs no other cloud's provider.

module "this" {
  source = "../../modules/aws-state-backend"

  bucket     = var.bucket
  lock_table = var.lock_table

  deny_insecure_transport = var.deny_insecure_transport
  tags                    = { "iconctl-deployment" = var.name, "managed-by" = "iconctl" }
}
