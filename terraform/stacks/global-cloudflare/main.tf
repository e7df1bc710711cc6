# The global layer: the Cloudflare load balancer on the public hostname, one pool per region,
# geo steering with failover, health from the agents' /readyz.

module "geo" {
  source = "../../modules/cloudflare-geo"

  name                = var.name
  hostname            = var.domain
  zone                = var.zone
  account_id          = var.account_id
  steering            = var.steering
  monitor_path        = var.monitor_path
  region_monitor_path = var.region_monitor_path
  monitor_port        = var.monitor_port
  expected_body       = var.expected_body
  notification_email  = var.notification_email
  regions = [
    for region in var.regions : merge(region, {
      min_ready = length(region.origins) > 0 ? min(var.min_ready_nodes, length(region.origins)) : 1
    })
  ]
}

data "cloudflare_zone" "this" {
  name = var.zone
}

# Region hostnames are DNS only (not proxied): they are the load balancer's origins.
resource "cloudflare_record" "region" {
  for_each = var.region_records

  zone_id = data.cloudflare_zone.this.id
  name    = each.key
  type    = each.value.type
  content = each.value.value
  ttl     = 60
  proxied = false
}
