# Geo load balancing over three regions; the token comes from CLOUDFLARE_API_TOKEN.

provider "cloudflare" {}

module "geo" {
  source = "../../modules/cloudflare-geo"

  name     = "icon-api"
  hostname = "api.example.org"
  zone     = "example.org"
  steering = "geo"
  regions = [
    { name = "us-east-1", cloud = "aws", continent = "NA", endpoint = "us-east-1.api.example.org", behind_lb = true },
    { name = "eu-central-1", cloud = "aws", continent = "EU", endpoint = "eu-central-1.api.example.org" },
    { name = "asia-northeast1", cloud = "gcp", continent = "AS", endpoint = "asia-northeast1.api.example.org" },
  ]
}

output "pool_ids" {
  value = module.geo.pool_ids
}
