bucket       = "icon-api-tfstate"
key          = "iconctl/icon-api/global.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
