output "zones" {
  description = "Zone names of the region, e.g. [\"asia-northeast1-a\", \"asia-northeast1-b\", \"asia-northeast1-c\"]."
  value       = local.zones
}
