terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 7.0.0"
    }
    # v4 line; see modules/cloudflare-geo/versions.tf.
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 4.52"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = module.naming.tags
  }
}

# The API token comes from CLOUDFLARE_API_TOKEN in the environment (iconctl hands it over
# for this step as for the global stack); it is never a variable.
provider "cloudflare" {}
