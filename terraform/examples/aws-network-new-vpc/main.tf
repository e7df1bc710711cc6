# A new VPC over three zones with flow logs of rejected traffic.

provider "aws" {
  region = "us-east-1"
}

module "network" {
  source = "../../modules/aws-network"

  name       = "icon-api-us-east-1"
  zone_count = 3
  tags       = { "iconctl-deployment" = "icon-api" }
}

output "public_subnet_ids" {
  value = module.network.public_subnet_ids
}
