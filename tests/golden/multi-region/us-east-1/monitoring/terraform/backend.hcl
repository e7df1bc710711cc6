bucket       = "icon-api-tfstate"
key          = "iconctl/icon-api/us-east-1-monitoring.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
