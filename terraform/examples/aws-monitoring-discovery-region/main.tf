# The discovery identity of the Prometheus server monitoring us-east-1.

provider "aws" {
  region = "us-east-1"
}

module "discovery" {
  source = "../../modules/aws-monitoring-discovery"

  name   = "icon-api-us-east-1"
  region = "us-east-1"
}

output "instance_profile_name" {
  value = module.discovery.instance_profile_name
}
