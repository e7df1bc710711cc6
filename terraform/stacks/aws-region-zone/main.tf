# The Route 53 zone of one AWS region behind the Cloudflare global load balancer, delegated
# from the Cloudflare zone (geo.zone). `iconctl apply` runs this stack as the region's `zone`
# step, before the region's own stack: the region's ACM certificate validates through this
# zone, which must already resolve. The zone's ID reaches the region stack as route53_zone_id.

module "naming" {
  source = "../../modules/naming"

  name   = var.name
  region = var.region
  domain = var.domain
  tags   = var.tags
}

module "zone" {
  source = "../../modules/aws-region-zone"

  hostname        = var.domain
  cloudflare_zone = var.zone
  ns_ttl          = var.ns_ttl
  tags            = module.naming.tags
}
