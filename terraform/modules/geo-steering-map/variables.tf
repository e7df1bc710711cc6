variable "name" {
  type        = string
  description = "Deployment name; pool names are <name>-<region>."
}

variable "regions" {
  type = list(object({
    name      = string
    cloud     = string
    continent = string
    endpoint  = string
    origins   = optional(list(string), [])
    min_ready = optional(number, 1)
    behind_lb = optional(bool, false)
  }))
  description = <<-EOT
    One entry per region, in failover priority order. continent is a two-letter continent
    code (NA, SA, EU, ME, AF, AS, OC; case-insensitive) or its name (north-america, europe, asia,
    ...). endpoint is the region's public hostname. origins optionally lists the region's node
    addresses: then the region's pool is healthy while at least min_ready of them are ready;
    without origins the pool has one origin, the endpoint. behind_lb: that endpoint is the
    region's load balancer, whose agents answer for the whole region (monitor "region":
    /region/readyz, healthy while at least min_ready_nodes of the region's nodes are ready);
    otherwise the monitor asks the origin's own readiness (monitor "node": /readyz).
  EOT

  validation {
    condition     = length(var.regions) >= 1 && length(distinct([for r in var.regions : r.name])) == length(var.regions)
    error_message = "regions must list at least one region, each name once."
  }

  validation {
    condition = alltrue([for r in var.regions : contains([
      "na", "sa", "eu", "me", "af", "as", "oc",
      "north-america", "south-america", "europe", "middle-east", "africa", "asia", "oceania",
    ], lower(r.continent))])
    error_message = "continent must be one of NA, SA, EU, ME, AF, AS, OC (or north-america, south-america, europe, middle-east, africa, asia, oceania)."
  }

  validation {
    condition     = alltrue([for r in var.regions : contains(["aws", "gcp"], r.cloud)])
    error_message = "cloud must be aws or gcp."
  }

  validation {
    condition     = alltrue([for r in var.regions : r.min_ready >= 1 && (length(r.origins) == 0 || r.min_ready <= length(r.origins))])
    error_message = "min_ready must be at least 1 and, when origins are listed, no more than their number."
  }
}

variable "steering" {
  type        = string
  description = "How the global load balancer picks a region: geo (by the client's continent, then failover order), dynamic (lowest measured latency) or off (failover order only)."
  default     = "geo"

  validation {
    condition     = contains(["geo", "dynamic", "off"], var.steering)
    error_message = "steering must be one of: geo, dynamic, off."
  }
}
