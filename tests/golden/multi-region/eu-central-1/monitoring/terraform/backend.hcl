bucket       = "icon-api-tfstate"
key          = "iconctl/icon-api/eu-central-1-monitoring.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
