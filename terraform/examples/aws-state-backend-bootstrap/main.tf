# The S3 state bucket with S3 lock files.

provider "aws" {
  region = "us-east-1"
}

module "state" {
  source = "../../modules/aws-state-backend"

  bucket = "icon-api-tfstate"
}

output "bucket" {
  value = module.state.bucket
}
