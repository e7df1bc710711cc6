terraform {
  required_version = ">= 1.6.0"

  required_providers {
    # v4 line; see modules/cloudflare-geo/versions.tf.
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 4.52"
    }
  }
}

# The API token comes from CLOUDFLARE_API_TOKEN in the environment; it is never a variable,
# so it cannot end up in a rendered file or in the plan.
provider "cloudflare" {}
