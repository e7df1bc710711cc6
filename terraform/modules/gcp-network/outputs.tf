output "network" {
  description = "Self link (or the given name) of the VPC network."
  value       = local.create ? try(google_compute_network.this[0].self_link, null) : var.network
}

output "subnetwork" {
  description = "Self link of the subnetwork."
  value       = local.create ? try(google_compute_subnetwork.this[0].self_link, null) : var.subnetwork
}
