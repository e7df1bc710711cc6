# Subnets for a three-zone regional network.

module "plan" {
  source = "../../modules/network-plan"

  cidr_block = "10.42.0.0/16"
  zones      = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

output "public_subnets" {
  value = module.plan.public_subnets
}
