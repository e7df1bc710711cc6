# The zones a regional managed instance group in Tokyo spreads over.

module "zones" {
  source = "../../modules/gcp-zones"

  region = "asia-northeast1"
}

output "zones" {
  value = module.zones.zones
}
