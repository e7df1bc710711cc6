# Rendered by iconctl from the spec; edit the spec, not this file.
iconctl_image = "ghcr.io/icon-community/iconctl:0.1.0"
image_name    = "icon-api-icon-node-mainnet"
instance_type = "n2-standard-2"
node_image    = "iconloop/icon2-node:v1.4.2"
project_id    = "my-icon-project"
zone          = "asia-northeast1-a"
