# The Route 53 zone of one AWS region behind the Cloudflare global load balancer, delegated
# from the Cloudflare zone of the parent domain.

module "zone" {
  source = "../../modules/aws-region-zone"

  hostname        = "us-east-1.api.example.org"
  cloudflare_zone = "example.org"
  tags            = { "managed-by" = "iconctl" }
}

output "zone_id" {
  value = module.zone.zone_id
}

output "name_servers" {
  value = module.zone.name_servers
}
