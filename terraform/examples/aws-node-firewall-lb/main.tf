# The security group of nodes behind a load balancer (as aws-asg makes it): p2p open, the
# proxy and agent ports from the load balancer's group, the agent and exporters from the
# regional Prometheus, SSH from one operator range.

provider "aws" {
  region = "us-east-1"
}

module "firewall" {
  source = "../../modules/aws-node-firewall"

  name_prefix            = "icon-api-us-east-1-node-"
  description            = "ICON nodes of icon-api-us-east-1"
  name_tag               = "icon-api-us-east-1-node"
  vpc_id                 = "vpc-0123456789abcdef0"
  p2p_port               = 7100
  lb_security_group_id   = "sg-0123456789abcdef0"
  lb_ports               = [80, 9900]
  agent_cidrs            = ["10.0.8.0/24"]
  agent_rule_description = "Agent metrics for Prometheus"
  monitoring_cidrs       = ["10.0.8.0/24"]
  exporter_ports         = [9100, 9598]
  ssh_cidrs              = ["203.0.113.0/24"]
}

output "security_group_id" {
  value = module.firewall.security_group_id
}
