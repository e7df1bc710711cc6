output "prefix" {
  description = "<name>-<region>, the untruncated base of every name."
  value       = local.full
}

output "lb_name" {
  description = "Load balancer name (at most 32 characters)."
  value       = local.lb_name
}

output "target_group_prefix" {
  description = "Base for target group names (at most 26 characters, so a role suffix fits in 32)."
  value       = local.tg_base
}

output "gcp_prefix" {
  description = "Base for GCP resource names (at most 52 characters)."
  value       = local.gcp_base
}

output "service_account_id" {
  description = "GCP service account id (6-30 characters)."
  value       = local.sa_id
}

output "source_service_account_id" {
  description = "GCP service account id of the region's source-of-truth node (6-30 characters)."
  value       = local.source_sa_id
}

output "regional_hostname" {
  description = "Hostname of this region's endpoint, <region>.<domain>."
  value       = local.regional_hostname
}

output "tags" {
  description = "Tags for AWS resources: the caller's tags plus iconctl's own."
  value       = local.tags
}

output "labels" {
  description = "The same tags as GCP labels (lowercased, invalid characters replaced)."
  value       = local.labels
}

output "snapshot_bucket" {
  description = "The snapshot bucket name, or null when sync is disabled."
  value       = var.snapshot_bucket == "" ? null : var.snapshot_bucket
}
