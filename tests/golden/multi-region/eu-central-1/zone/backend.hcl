bucket       = "icon-api-tfstate"
key          = "iconctl/icon-api/eu-central-1-zone.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
