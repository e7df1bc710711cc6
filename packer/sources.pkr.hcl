# One source per cloud; `iconctl apply` picks one with -only (see sources.json).
# Valid for Packer 1.6 (builders built in) and current Packer (install the amazon and
# googlecompute plugins first: `packer plugins install github.com/hashicorp/amazon`, ...).

locals {
  timestamp = formatdate("YYYYMMDDhhmmss", timestamp())
  # GCE label values allow no "/" or ":", so the node image is recorded in the description.
  labels = {
    "iconctl-image" = "icon-node"
  }
}

source "amazon-ebs" "icon-node" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "${var.image_name}-${local.timestamp}"
  ssh_username  = var.aws_ssh_username

  source_ami_filter {
    owners      = [var.source_ami_owner]
    most_recent = true
    filters = {
      name                = var.source_ami_name
      architecture        = "x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
  }

  # IMDSv2 is required by the launch templates (terraform/), not here: Packer 1.6's builder
  # has neither metadata_options nor imds_support.

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = 16
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    encrypted             = true
    delete_on_termination = true
  }

  tags = {
    Name            = var.image_name
    "iconctl-image" = "icon-node"
    "node-image"    = var.node_image
  }
}

source "googlecompute" "icon-node" {
  project_id                  = var.project_id
  zone                        = var.zone
  machine_type                = var.instance_type
  source_image_family         = var.source_image_family
  source_image_project_id     = [var.source_image_project]
  image_name                  = "${var.image_name}-${local.timestamp}"
  image_family                = var.image_name
  image_labels                = local.labels
  image_description           = "ICON node image with ${var.node_image}"
  ssh_username                = "packer"
  disk_size                   = 16
  disk_type                   = "pd-ssd"
  enable_secure_boot          = true
  enable_vtpm                 = true
  enable_integrity_monitoring = true
}

# A local build on a Docker engine (tests; machines without a cloud account): the same roles
# applied to a Debian 12 container, committed as a container image. Host network: the engine
# may run without a default bridge, and apt needs the package archive.
source "docker" "icon-node" {
  image       = var.docker_base_image
  pull        = false
  commit      = true
  run_command = ["-d", "-i", "-t", "--network", "host", "--name", "packer-${var.image_name}", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
}
