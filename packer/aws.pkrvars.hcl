# Example values for an AWS image; `iconctl render` writes the real ones per region.
image_name    = "icon-api-icon-node-mainnet"
node_image    = "iconloop/icon2-node:v1.4.4"
iconctl_image = "ghcr.io/icon-community/iconctl:0.1.0"
instance_type = "m6i.large"
region        = "us-east-1"
