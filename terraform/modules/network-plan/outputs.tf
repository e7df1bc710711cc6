output "public_subnets" {
  description = "Map of zone name to the CIDR of its public subnet."
  value       = local.public_subnets

  precondition {
    condition     = local.newbits > 0 && length(var.zones) <= local.capacity
    error_message = "The subnets do not fit: choose a longer subnet_prefix_length or a larger cidr_block."
  }
}

output "public_subnet_list" {
  description = "Public subnet CIDRs in the order of var.zones."
  value       = [for zone in var.zones : local.public_subnets[zone] if contains(keys(local.public_subnets), zone)]
}

output "zones" {
  description = "The zones, in order."
  value       = var.zones
}
