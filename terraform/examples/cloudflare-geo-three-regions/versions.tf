terraform {
  required_version = ">= 1.6.0"

  required_providers {
    # Pinned to the v4 line: v5 rewrote the load balancer resources (blocks became
    # attributes, region_pools became a map); moving to v5 is a deliberate migration.
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 4.52"
    }
  }
}
