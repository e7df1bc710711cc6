output "hostname" {
  description = "The delegated name, lower case, without a trailing dot."
  value       = local.hostname

  precondition {
    condition     = local.inside_parent
    error_message = "hostname ${var.hostname} is not strictly below ${var.parent_zone}: the parent zone cannot delegate it."
  }
}

output "relative_name" {
  description = "The delegation's record name relative to the parent zone, e.g. us-east-1.api."
  value       = local.relative_name

  precondition {
    condition     = local.inside_parent
    error_message = "hostname ${var.hostname} is not strictly below ${var.parent_zone}: the parent zone cannot delegate it."
  }
}

output "name_servers" {
  description = "The delegated zone's name servers, lower case, without trailing dots, in the given order."
  value       = local.name_servers
}
