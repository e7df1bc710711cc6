# A regional TLS network load balancer with the agent listener open to Cloudflare's checks.

provider "aws" {
  region = "us-east-1"
}

module "lb" {
  source = "../../modules/aws-nlb"

  name                 = "icon-api-us-east-1"
  target_group_prefix  = "icon-api-us-east-1"
  vpc_id               = "vpc-0123456789abcdef0"
  subnet_ids           = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  domain               = "us-east-1.api.example.org"
  regional_hostname    = "us-east-1.api.example.org"
  route53_zone_id      = "Z0123456789ABCDEFGHIJ"
  health_checker_cidrs = ["173.245.48.0/20", "103.21.244.0/22"]
  min_healthy_targets  = 2
}

output "dns_name" {
  value = module.lb.dns_name
}
