# Autoscaled nodes from a baked image behind a load balancer created elsewhere.

provider "aws" {
  region = "us-east-1"
}

module "nodes" {
  source = "../../modules/aws-asg"

  name                     = "icon-api-us-east-1"
  network                  = "mainnet"
  node_image               = "iconloop/icon2-node:v1.4.2"
  ami_id                   = "ami-0123456789abcdef0"
  instance_type            = "i4i.2xlarge"
  vpc_id                   = "vpc-0123456789abcdef0"
  subnet_ids               = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  min_size                 = 2
  max_size                 = 6
  target_group_arns        = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/icon-api-us-east-1-rpc/0123456789abcdef"]
  lb_security_group_id     = "sg-0123456789abcdef0"
  snapshot_store           = "s3://icon-api-snapshots-us-east-1/mainnet"
  snapshot_read_policy_arn = "arn:aws:iam::123456789012:policy/icon-api-snapshots-us-east-1-read"
  compose_env = {
    COMPOSE_FILE       = "compose.yaml:compose.asg.yaml:compose.restore.yaml:compose.agent.yaml:compose.edge.yaml"
    ICON_RESTORE_STORE = "s3://icon-api-snapshots-us-east-1/mainnet"
  }
}

output "autoscaling_group_name" {
  value = module.nodes.autoscaling_group_name
}
