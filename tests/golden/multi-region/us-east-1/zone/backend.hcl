bucket       = "icon-api-tfstate"
key          = "iconctl/icon-api/us-east-1-zone.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
