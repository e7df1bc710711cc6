# The source-of-truth node of a region, writing snapshots to the region's bucket.

provider "aws" {
  region = "us-east-1"
}

module "snapshots" {
  source = "../../modules/aws-snapshot-bucket"

  bucket           = "icon-api-snapshots-us-east-1"
  writer_role_arns = [module.source.role_arn]
}

module "source" {
  source = "../../modules/aws-source-node"

  name                      = "icon-api-us-east-1-source"
  network                   = "mainnet"
  node_image                = "iconloop/icon2-node:v1.4.2"
  instance_type             = "i4i.2xlarge"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_id                 = "subnet-0123456789abcdef0"
  snapshot_store            = "s3://icon-api-snapshots-us-east-1/mainnet"
  snapshot_write_policy_arn = module.snapshots.write_policy_arn
}

output "source_public_ip" {
  value = module.source.public_ip
}
