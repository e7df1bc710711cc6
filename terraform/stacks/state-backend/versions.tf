terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 7.0.0"
    }
    google = {
      source  = "hashicorp/google"
      version = ">= 5.40.0, < 8.0.0"
    }
  }
}

# Only the provider of the chosen backend is used; the other gets harmless defaults.
provider "aws" {
  region                      = coalesce(var.region, "us-east-1")
  skip_credentials_validation = var.backend != "s3"
  skip_requesting_account_id  = var.backend != "s3"
  skip_metadata_api_check     = var.backend != "s3"
}

provider "google" {
  project = var.gcp_project
}
