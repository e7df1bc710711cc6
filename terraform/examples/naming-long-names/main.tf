# Names for a long deployment name in a long region: every cloud's limits hold.

module "naming" {
  source = "../../modules/naming"

  name            = "a-rather-long-deployment-name"
  region          = "northamerica-northeast2"
  domain          = "api.example.org"
  snapshot_bucket = "icon-api-snapshots-northamerica-northeast2"
  tags            = { team = "node-ops" }
}

output "names" {
  value = {
    lb_name            = module.naming.lb_name
    gcp_prefix         = module.naming.gcp_prefix
    service_account_id = module.naming.service_account_id
    regional_hostname  = module.naming.regional_hostname
  }
}
