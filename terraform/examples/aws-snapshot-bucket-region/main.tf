# The snapshot bucket of one region; the source node's role is its only writer.

provider "aws" {
  region = "us-east-1"
}

module "snapshots" {
  source = "../../modules/aws-snapshot-bucket"

  bucket           = "icon-api-snapshots-us-east-1"
  writer_role_arns = ["arn:aws:iam::123456789012:role/icon-api-us-east-1-source"]
}

output "read_policy_arn" {
  value = module.snapshots.read_policy_arn
}
