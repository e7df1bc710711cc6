# What the orchestration passes on to the Ansible inventory and the status command.

output "hostname" {
  description = "Hostname the node serves."
  value       = var.domain
}

output "node_public_ip" {
  description = "Static external address of the node (the inventory's ansible_host)."
  value       = module.node.public_ip
}

output "node_private_ip" {
  description = "Internal address of the node."
  value       = module.node.private_ip
}

output "node_instance_name" {
  description = "Instance name of the node."
  value       = module.node.instance_name
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
  description = "Connection settings for every host of the inventory, and with monitoring_cidrs the private address the exporters listen on (icon_node_metrics_address). The login user comes from OS Login (the operator's own account), so none is set here."
  value = merge(
    {
      ansible_python_interpreter = "/usr/bin/python3"
    },
    # The exporters listen on the private address the regional Prometheus scrapes.
    length(var.monitoring_cidrs) > 0 || var.monitoring_host ? { icon_node_metrics_address = module.node.private_ip } : {},
  )
}

output "monitoring_service_account" {
  description = "Service account for the region's Prometheus (instance listing only), or null without monitoring_cidrs."
  value       = try(module.monitoring_discovery[0].service_account_email, null)
}

output "region_record" {
  description = "The DNS record iconctl passes to the global stack (region_records) for this region's hostname: an A record to the node's static address. null for a lone region, or when Cloud DNS publishes the hostname (dns_managed_zone)."
  value       = startswith(var.domain, "${var.region}.") && var.dns_managed_zone == "" ? { type = "A", value = module.node.public_ip } : null
}

output "monitoring_network" {
  description = "What the region's monitoring host (stack gcp-monitoring) needs: the network, its subnetwork and the node's network tag."
  value = {
    network    = module.network.network
    subnetwork = module.network.subnetwork
    node_tags  = [module.naming.gcp_prefix]
  }
}
