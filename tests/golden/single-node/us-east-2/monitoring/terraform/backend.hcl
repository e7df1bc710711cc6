path = "state/my-icon-node/us-east-2-monitoring.tfstate"
