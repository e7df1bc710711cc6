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
  }

  # Cloudflare's geographic regions and, for each, the continents to try, nearest first.
  # The order after the first continent is the failover order for that region's clients.
  preference = {
    WNAM = ["NA", "SA", "EU", "AS", "OC", "AF"]
    ENAM = ["NA", "SA", "EU", "AF", "AS", "OC"]
    NSAM = ["SA", "NA", "EU", "AF", "AS", "OC"]
    SSAM = ["SA", "NA", "EU", "AF", "OC", "AS"]
    WEU  = ["EU", "AF", "NA", "AS", "SA", "OC"]
    EEU  = ["EU", "AS", "AF", "NA", "SA", "OC"]
    ME   = ["EU", "AS", "AF", "NA", "OC", "SA"]
    NAF  = ["AF", "EU", "NA", "SA", "AS", "OC"]
    SAF  = ["AF", "EU", "SA", "NA", "AS", "OC"]
    SAS  = ["AS", "EU", "OC", "AF", "NA", "SA"]
    SEAS = ["AS", "OC", "NA", "EU", "AF", "SA"]
    NEAS = ["AS", "OC", "NA", "EU", "SA", "AF"]
    OC   = ["OC", "AS", "NA", "EU", "SA", "AF"]
  }

  # Where Cloudflare's health checks for a pool run from: the pool's own continent.
  check_regions = {
    NA = ["WNAM", "ENAM"]
    SA = ["NSAM", "SSAM"]
    EU = ["WEU", "EEU"]
    AF = ["NAF", "SAF"]
    AS = ["SEAS", "NEAS"]
    OC = ["OC"]
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
      origins = length(r.origins) > 0 ? [
        for index, address in r.origins : { name = "${r.name}-${index}", address = address }
        ] : [
        { name = r.name, address = r.endpoint },
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
