# What the orchestration passes on to the Ansible inventory and the status command.

output "hostname" {
  description = "Hostname the node serves."
  value       = var.domain
}

output "node_public_ip" {
  description = "Elastic IP of the node (the inventory's ansible_host)."
  value       = module.node.public_ip
}

output "node_private_ip" {
  description = "Private address of the node."
  value       = module.node.private_ip
}

output "node_instance_id" {
  description = "EC2 instance ID of the node."
  value       = module.node.instance_id
}

output "node_role" {
  description = "node, or source when the node also takes snapshots."
  value       = local.sync ? "source" : "node"
}

output "snapshot_bucket" {
  description = "The region's snapshot bucket, or null without sync."
  value       = local.sync ? module.snapshots[0].bucket : null
}

output "snapshot_store" {
  description = "Snapshot store URL the node uses, or null without sync."
  value       = local.sync ? local.snapshot_store : null
}

output "ansible_hosts" {
  description = "Inventory groups to addresses: the node serves (icon_nodes) and, with sync, is the source of truth (icon_source). Ansible configures it."
  value = {
    icon_nodes  = compact([module.node.public_ip])
    icon_source = local.sync ? compact([module.node.public_ip]) : []
  }
}

output "ansible_vars" {
  description = "Connection settings for every host of the inventory, and with monitoring_cidrs the private address the exporters listen on (icon_node_metrics_address)."
  value = merge(
    {
      ansible_user               = "admin"
      ansible_python_interpreter = "/usr/bin/python3"
    },
    # The exporters listen on the private address the regional Prometheus scrapes.
    length(var.monitoring_cidrs) > 0 || var.monitoring_host ? { icon_node_metrics_address = module.node.private_ip } : {},
  )
}

output "monitoring_instance_profile" {
  description = "Instance profile for the region's Prometheus (EC2 discovery, read-only), or null without monitoring_cidrs."
  value       = try(module.monitoring_discovery[0].instance_profile_name, null)
}

output "monitoring_network" {
  description = "What the region's monitoring host (stack aws-monitoring) needs: the VPC, its range (null for a reused VPC), the public subnets and the node's security group."
  value = {
    vpc_id                  = module.network.vpc_id
    vpc_cidr_block          = module.network.vpc_cidr_block
    subnet_ids              = module.network.public_subnet_ids
    node_security_group_ids = [module.node.security_group_id]
  }
}
