output "cloud_config" {
  description = "The cloud-init user data (#cloud-config YAML)."
  value       = local.cloud_config

  precondition {
    condition     = var.tls_domain == null || var.tls_email != null
    error_message = "tls_email is required when tls_domain is set."
  }
}

output "cloud_config_sha256" {
  description = "SHA-256 of the user data, for replacement triggers."
  value       = sha256(local.cloud_config)
}

output "env" {
  description = "The settings written to /etc/iconctl/node.env."
  value       = local.env
}
