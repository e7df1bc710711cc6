output "instance_id" {
  description = "EC2 instance ID of the host (the Session Manager target)."
  value       = try(aws_instance.this.id, null)
}

output "private_ip" {
  description = "Private address of the host."
  value       = try(aws_instance.this.private_ip, null)
}

output "security_group_id" {
  description = "Security group of the host."
  value       = try(aws_security_group.this.id, null)
}

output "role_name" {
  description = "IAM role of the host (EC2 discovery and Session Manager)."
  value       = module.discovery.role_name
}

output "subnet_id" {
  description = "Subnet the host runs in."
  value       = try(aws_instance.this.subnet_id, null)
}

output "data_volume_id" {
  description = "EBS volume ID of the encrypted data volume."
  value       = try(aws_ebs_volume.data.id, null)
}

output "data_device" {
  description = "Stable path of the data volume on the host (Nitro instances expose EBS volumes as NVMe devices named after the volume id): the role's icon_monitoring_data_device."
  value       = try("/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${replace(aws_ebs_volume.data.id, "-", "")}", null)
}
