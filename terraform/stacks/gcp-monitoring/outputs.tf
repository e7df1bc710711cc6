# What the orchestration passes on to the monitoring inventory.

output "instance_name" {
  description = "Name of the monitoring host (the IAP target)."
  value       = module.host.instance_name
}

output "private_ip" {
  description = "Private address of the monitoring host."
  value       = module.host.private_ip
}

output "prometheus_url" {
  description = "The regional Prometheus over the private network (what another region's global Prometheus federates)."
  value       = "http://${module.host.private_ip}:9090"
}

output "ansible_hosts" {
  description = "Inventory group to hosts: the instance name, reached through IAP."
  value       = { icon_monitoring = compact([module.host.instance_name]) }
}

output "ansible_vars" {
  description = "Connection through IAP TCP forwarding (SSH), the login user, the address the daemons listen on and the data volume's device."
  value = {
    ansible_python_interpreter     = "/usr/bin/python3"
    ansible_ssh_common_args        = "-o ProxyCommand=\"gcloud compute start-iap-tunnel %h %p --listen-on-stdin --zone ${module.zones.zones[0]} --project ${var.gcp_project}\""
    icon_monitoring_listen_address = module.host.private_ip
    icon_monitoring_data_device    = module.host.data_device
  }
}
