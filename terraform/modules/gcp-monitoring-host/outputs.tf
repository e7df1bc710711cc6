output "instance_name" {
  description = "Name of the host (the IAP target)."
  value       = try(google_compute_instance.this.name, null)
}

output "zone" {
  description = "Zone of the host."
  value       = try(google_compute_instance.this.zone, null)
}

output "private_ip" {
  description = "Private address of the host."
  value       = try(google_compute_instance.this.network_interface[0].network_ip, null)
}

output "network_tag" {
  description = "Network tag of the host (what the nodes' scrape rule admits)."
  value       = local.tag
}

output "data_device" {
  description = "Stable path of the data disk on the host (Google's udev rules name it after its device_name): the role's icon_monitoring_data_device."
  value       = "/dev/disk/by-id/google-${local.data_device_name}"
}
