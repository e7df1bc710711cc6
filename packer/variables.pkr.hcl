# Inputs of the ICON node image. `iconctl render` writes one <cloud>.pkrvars.hcl per region;
# aws.pkrvars.hcl and gcp.pkrvars.hcl here are examples.

variable "image_name" {
  type        = string
  description = "Name of the image (AMI name / GCE image name); a timestamp is appended."
  validation {
    # Packer 1.6 has no regex functions: lower case and length are what can be checked there.
    condition     = lower(var.image_name) == var.image_name && length(var.image_name) > 0 && length(var.image_name) <= 51
    error_message = "The image_name must be lower-case (letters, digits and dashes), 1 to 51 characters."
  }
}

variable "node_image" {
  type        = string
  description = "The icon2-node container image pulled into the image, e.g. iconloop/icon2-node:v1.4.4."
}

variable "instance_type" {
  type        = string
  description = "Machine type of the build instance (not of the nodes: the image is the same)."
}

variable "iconctl_image" {
  type        = string
  description = "Image of the iconctl sidecars (agent, restore, snapshot) pulled into the image: the spec's node.iconctl_image."
}

variable "ansible_extra_arguments" {
  type        = list(string)
  default     = []
  description = "More ansible-playbook arguments, e.g. [\"--extra-vars\", \"icon_node_docker_source=docker\"]."
}

# Docker (local builds)
variable "docker_base_image" {
  type        = string
  default     = "debian:12"
  description = "Debian 12 image the docker source starts from."
}

variable "manifest_path" {
  type        = string
  default     = "packer-manifest.json"
  description = "Where the manifest post-processor records the image id (read by iconctl apply)."
}

# AWS
variable "region" {
  type        = string
  default     = ""
  description = "AWS region to build in and publish the AMI to (amazon-ebs)."
}

variable "source_ami_owner" {
  type        = string
  default     = "136693071363"
  description = "Owner of the base AMI (Debian's official images)."
}

variable "source_ami_name" {
  type        = string
  default     = "debian-12-amd64-*"
  description = "Name pattern of the base AMI (Debian 12, what the region stacks boot); the newest match is used."
}

variable "aws_ssh_username" {
  type        = string
  default     = "admin"
  description = "Login user of the base AMI (admin on Debian's images)."
}

# GCP
variable "project_id" {
  type        = string
  default     = ""
  description = "GCP project to build in and own the image (googlecompute)."
}

variable "zone" {
  type        = string
  default     = ""
  description = "GCP zone of the build instance."
}

variable "source_image_family" {
  type        = string
  default     = "debian-12"
  description = "Family of the GCE base image (Debian 12)."
}

variable "source_image_project" {
  type        = string
  default     = "debian-cloud"
  description = "Project owning the GCE base image family."
}
