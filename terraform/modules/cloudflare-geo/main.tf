# The global entry point: a Cloudflare load balancer on the public hostname with one pool per
# region. A pool of listed nodes asks each node's /readyz (body OK) and stays healthy while at
# least min_ready of them are ready; a pool whose origin is a regional load balancer asks the
# agents' /region/readyz through it, which answers OK while at least min_ready_nodes of the
# region's nodes are ready. Clients go to their continent's pool first, then along the
# failover order. The routing table comes from geo-steering-map.
# The API token comes from CLOUDFLARE_API_TOKEN in the environment, never from a variable.

module "map" {
  source = "../geo-steering-map"

  name     = var.name
  regions  = var.regions
  steering = var.steering
}

data "cloudflare_zone" "this" {
  name = var.zone
}

locals {
  account_id = var.account_id != "" ? var.account_id : data.cloudflare_zone.this.account_id
}

moved {
  from = cloudflare_load_balancer_monitor.this
  to   = cloudflare_load_balancer_monitor.this["node"]
}

resource "cloudflare_load_balancer_monitor" "this" {
  for_each = toset(module.map.monitors)

  account_id       = local.account_id
  description      = each.key == "region" ? "${var.name} region readiness" : "${var.name} readiness"
  type             = "http"
  method           = "GET"
  port             = var.monitor_port
  path             = each.key == "region" ? var.region_monitor_path : var.monitor_path
  expected_codes   = "200"
  expected_body    = var.expected_body
  interval         = var.monitor_interval
  timeout          = 5
  retries          = 2
  follow_redirects = false
  allow_insecure   = false
}

resource "cloudflare_load_balancer_pool" "this" {
  for_each = module.map.pools

  account_id         = local.account_id
  name               = each.value.name
  description        = each.value.description
  monitor            = cloudflare_load_balancer_monitor.this[each.value.monitor].id
  minimum_origins    = each.value.minimum_origins
  check_regions      = each.value.check_regions
  notification_email = var.notification_email == "" ? null : var.notification_email

  dynamic "origins" {
    for_each = each.value.origins

    content {
      name    = origins.value.name
      address = origins.value.address
      enabled = true

      # The region's certificate is for its own hostname: send it as Host (and SNI).
      header {
        header = "Host"
        values = [origins.value.host]
      }
    }
  }
}

resource "cloudflare_load_balancer" "this" {
  zone_id          = data.cloudflare_zone.this.id
  name             = var.hostname
  description      = "${var.name}: ${var.steering} steering over ${length(var.regions)} region(s)"
  proxied          = var.proxied
  steering_policy  = module.map.steering_policy
  default_pool_ids = [for region in module.map.default_pools : cloudflare_load_balancer_pool.this[region].id]
  fallback_pool_id = cloudflare_load_balancer_pool.this[module.map.fallback_pool].id

  dynamic "region_pools" {
    for_each = module.map.region_pools

    content {
      region   = region_pools.key
      pool_ids = [for region in region_pools.value : cloudflare_load_balancer_pool.this[region].id]
    }
  }

  adaptive_routing {
    failover_across_pools = true
  }
}
