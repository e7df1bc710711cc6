# The private monitoring host of us-east-1 in the region's VPC, admitted by the nodes' group.

provider "aws" {
  region = "us-east-1"
}

module "monitoring_host" {
  source = "../../modules/aws-monitoring-host"

  name                    = "icon-api-us-east-1"
  region                  = "us-east-1"
  vpc_id                  = "vpc-0123456789abcdef0"
  vpc_cidr_block          = "10.42.0.0/16"
  public_subnet_id        = "subnet-0123456789abcdef0"
  node_security_group_ids = ["sg-0123456789abcdef0"]
}

output "instance_id" {
  value = module.monitoring_host.instance_id
}
