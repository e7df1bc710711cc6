# Rendered by iconctl from the spec; edit the spec, not this file.
iconctl_image = "ghcr.io/icon-community/iconctl:0.1.0"
image_name    = "my-icon-node-icon-node-lisbon"
instance_type = "m6i.large"
node_image    = "iconloop/icon2-node:v1.4.4"
region        = "us-east-2"
