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
  description = "The icon2-node container image pulled into the image, e.g. iconloop/icon2-node:v1.4.2."
}

variable "instance_type" {
  type        = string
  description = "Machine type of the build instance (not of the nodes: the image is the same)."
}

variable "iconctl_image" {
  type        = string
  default     = "iconctl:latest"
  description = "Image of the iconctl sidecars (agent, restore, snapshot) pulled into the image."
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
  default     = "099720109477"
  description = "Owner of the base AMI (Canonical)."
}

variable "source_ami_name" {
  type        = string
  default     = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
  description = "Name pattern of the base AMI (Ubuntu 24.04: Docker and the compose v2 plugin are distribution packages); the newest match is used."
}

variable "aws_ssh_username" {
  type        = string
  default     = "ubuntu"
  description = "Login user of the base AMI."
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
  default     = "ubuntu-2404-lts-amd64"
  description = "Family of the GCE base image."
}

variable "source_image_project" {
  type        = string
  default     = "ubuntu-os-cloud"
  description = "Project owning the GCE base image family."
}
