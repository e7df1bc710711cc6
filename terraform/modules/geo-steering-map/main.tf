# The global load balancer's routing table as plain data: one pool per region, which pools
# each Cloudflare geographic region tries and in what order, and the steering policy. The
# cloudflare-geo module turns this into resources; keeping it provider-less lets it be
# tested offline.

locals {
  continent_code = {
    "na" = "NA", "north-america" = "NA",
    "sa" = "SA", "south-america" = "SA",
    "eu" = "EU", "europe" = "EU",
    "af" = "AF", "africa" = "AF",
    "as" = "AS", "asia" = "AS",
    "oc" = "OC", "oceania" = "OC",
    "me" = "ME", "middle-east" = "ME",
  }

  # Cloudflare's geographic regions and, for each, the continents to try, nearest first.
  # The order after the first continent is the failover order for that region's clients.
  preference = {
    WNAM = ["NA", "SA", "EU", "AS", "OC", "ME", "AF"]
    ENAM = ["NA", "SA", "EU", "AF", "ME", "AS", "OC"]
    NSAM = ["SA", "NA", "EU", "AF", "ME", "AS", "OC"]
    SSAM = ["SA", "NA", "EU", "AF", "ME", "OC", "AS"]
    WEU  = ["EU", "ME", "AF", "NA", "AS", "SA", "OC"]
    EEU  = ["EU", "ME", "AS", "AF", "NA", "SA", "OC"]
    ME   = ["ME", "EU", "AS", "AF", "NA", "OC", "SA"]
    NAF  = ["AF", "EU", "ME", "NA", "SA", "AS", "OC"]
    SAF  = ["AF", "EU", "ME", "SA", "NA", "AS", "OC"]
    SAS  = ["AS", "ME", "EU", "OC", "AF", "NA", "SA"]
    SEAS = ["AS", "OC", "ME", "NA", "EU", "AF", "SA"]
    NEAS = ["AS", "OC", "NA", "ME", "EU", "SA", "AF"]
    OC   = ["OC", "AS", "NA", "ME", "EU", "SA", "AF"]
  }

  # Where Cloudflare's health checks for a pool run from: the pool's own continent.
  check_regions = {
    NA = ["WNAM", "ENAM"]
    SA = ["NSAM", "SSAM"]
    EU = ["WEU", "EEU"]
    AF = ["NAF", "SAF"]
    AS = ["SEAS", "NEAS"]
    OC = ["OC"]
    ME = ["ME"]
  }

  regions = [
    for r in var.regions : merge(r, {
      continent = local.continent_code[lower(r.continent)]
      pool      = "${var.name}-${r.name}"
    })
  ]

  pools = {
    for r in local.regions : r.name => {
      name            = r.pool
      description     = "${r.name} (${r.cloud}, ${r.continent})"
      continent       = r.continent
      check_regions   = local.check_regions[r.continent]
      minimum_origins = length(r.origins) > 0 ? r.min_ready : 1
      # Listed origins are nodes: each answers for itself. A load balancer's agents answer
      # for the region.
      monitor = length(r.origins) == 0 && r.behind_lb ? "region" : "node"
      origins = length(r.origins) > 0 ? [
        for index, address in r.origins : { name = "${r.name}-${index}", address = address, host = r.endpoint }
        ] : [
        { name = r.name, address = r.endpoint, host = r.endpoint },
      ]
    }
  }

  # Every pool appears in every region's list: first the nearest continent's pools (in the
  # order the regions were given), then the rest as failover.
  region_pools = {
    for cf_region, continents in local.preference : cf_region => flatten([
      for continent in continents : [for r in local.regions : r.name if r.continent == continent]
    ])
  }

  steering_policy = {
    geo     = "geo"
    dynamic = "dynamic_latency"
    off     = "off"
  }[var.steering]
}
