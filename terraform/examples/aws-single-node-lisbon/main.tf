# One Lisbon testnet node in an existing VPC, configured by Ansible, with a DNS record.

provider "aws" {
  region = "us-east-1"
}

module "node" {
  source = "../../modules/aws-single-node"

  name            = "my-icon-node-us-east-1"
  network         = "lisbon"
  node_image      = "iconloop/icon2-node:v1.4.4"
  instance_type   = "m6id.xlarge"
  vpc_id          = "vpc-0123456789abcdef0"
  subnet_id       = "subnet-0123456789abcdef0"
  route53_zone_id = "Z0123456789ABCDEFGHIJ"
  dns_names       = ["node.example.org"]
  ssh_cidrs       = ["198.51.100.0/24"]
}

output "public_ip" {
  value = module.node.public_ip
}
