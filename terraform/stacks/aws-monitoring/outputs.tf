# What the orchestration passes on to the monitoring inventory.

output "instance_id" {
  description = "EC2 instance ID of the monitoring host (the Session Manager target)."
  value       = module.host.instance_id
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
  description = "Inventory group to hosts: the instance ID, reached through Session Manager."
  value       = { icon_monitoring = compact([module.host.instance_id]) }
}

output "ansible_vars" {
  description = "Connection through Session Manager (SSH over AWS-StartSSHSession), the login user, the address the daemons listen on and the data volume's device."
  value = {
    ansible_user                   = "admin"
    ansible_python_interpreter     = "/usr/bin/python3"
    ansible_ssh_common_args        = "-o ProxyCommand=\"aws ssm start-session --region ${var.region} --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p\""
    icon_monitoring_listen_address = module.host.private_ip
    icon_monitoring_data_device    = module.host.data_device
  }
}
