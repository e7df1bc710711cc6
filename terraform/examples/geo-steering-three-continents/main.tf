# The routing table of the multi-region example: North America, Europe and Asia.

module "map" {
  source = "../../modules/geo-steering-map"

  name     = "icon-api"
  steering = "geo"
  regions = [
    { name = "us-east-1", cloud = "aws", continent = "NA", endpoint = "us-east-1.api.example.org" },
    { name = "eu-central-1", cloud = "aws", continent = "EU", endpoint = "eu-central-1.api.example.org" },
    { name = "asia-northeast1", cloud = "gcp", continent = "AS", endpoint = "asia-northeast1.api.example.org" },
  ]
}

output "region_pools" {
  value = module.map.region_pools
}

output "pools" {
  value = module.map.pools
}
