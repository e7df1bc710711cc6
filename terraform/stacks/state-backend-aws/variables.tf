# Rendered by `iconctl render` into global/state-backend/terraform.tfvars.json. This stack
# keeps its own state locally: it creates the bucket every other stack's state lives in.

variable "name" {
  type        = string
  description = "Deployment name (spec: name); tags the bucket."
}

variable "bucket" {
  type        = string
  description = "Name of the state bucket (spec: state.bucket)."
}

variable "region" {
  type        = string
  description = "AWS region of the bucket (spec: state.region)."
}

variable "lock_table" {
  type        = bool
  description = "Also create a DynamoDB lock table (for Terraform older than 1.10)."
  default     = false
}

variable "deny_insecure_transport" {
  type        = bool
  description = "Refuse every request to the state bucket that does not use TLS. Keep true on AWS; false only for moto, which ignores policy conditions (docs/terraform.md)."
  default     = true
}
