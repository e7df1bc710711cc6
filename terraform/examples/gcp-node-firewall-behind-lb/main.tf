# The firewall of nodes behind Google's load balancer (as gcp-mig makes it): p2p open, the
# proxy and agent ports from the load balancer ranges, the agent and exporters from the
# regional Prometheus, SSH from one operator range.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "firewall" {
  source = "../../modules/gcp-node-firewall"

  project                  = "my-icon-project"
  network                  = "projects/my-icon-project/global/networks/icon-api"
  target_tag               = "icon-api-asia-northeast1"
  p2p_port                 = 7100
  lb_source_ranges         = ["35.191.0.0/16", "130.211.0.0/22"]
  lb_ports                 = [80, 9900]
  monitoring_cidrs         = ["10.20.8.0/24"]
  exporter_ports           = [9900, 9100, 9598]
  metrics_rule_description = "Agent, node and exporter metrics for Prometheus"
  ssh_cidrs                = ["203.0.113.0/24"]
}

output "rule_names" {
  value = module.firewall.rule_names
}
