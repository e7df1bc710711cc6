# What the orchestration passes on to the Ansible inventory, the global stack and the
# status command. Serving nodes come and go with the group: list them through the
# instance group manager at run time.

output "hostname" {
  description = "This region's hostname (the global load balancer's origin)."
  value       = var.domain
}

output "service_domain" {
  description = "The public hostname the fleet serves."
  value       = local.service_domain
}

output "lb_ip" {
  description = "Public address of the regional load balancer (point the hostname here)."
  value       = module.lb.ip_address
}

output "instance_group_manager" {
  description = "Regional managed instance group of the serving nodes."
  value       = module.nodes.instance_group_manager
}

output "source_public_ip" {
  description = "Static address of the source-of-truth node (the inventory's icon_source host), or null without sync."
  value       = local.sync ? module.source_node[0].public_ip : null
}

output "source_private_ip" {
  description = "Internal address of the source-of-truth node, or null without sync."
  value       = local.sync ? module.source_node[0].private_ip : null
}

output "source_instance_name" {
  description = "Instance name of the source-of-truth node, or null without sync."
  value       = local.sync ? module.source_node[0].instance_name : null
}

output "snapshot_bucket" {
  description = "The region's snapshot bucket, or null without sync."
  value       = local.sync ? module.snapshots[0].bucket : null
}

output "snapshot_store" {
  description = "Snapshot store URL of the region, or null without sync."
  value       = local.sync ? local.snapshot_store : null
}

output "ansible_hosts" {
  description = "Inventory groups to addresses. Serving nodes configure themselves at boot; the source node too when it boots the baked image, otherwise Ansible configures it (icon_source)."
  value = {
    icon_nodes  = []
    icon_source = local.sync && var.image_id == null ? compact([module.source_node[0].public_ip]) : []
  }
}

output "ansible_vars" {
  description = "Connection settings for every host of the inventory, and with monitoring_cidrs the private address the exporters listen on (icon_node_metrics_address). The login user comes from OS Login (the operator's own account), so none is set here."
  value = merge(
    {
      ansible_python_interpreter = "/usr/bin/python3"
    },
    # The exporters listen on the private address the regional Prometheus scrapes.
    (length(var.monitoring_cidrs) > 0 || var.monitoring_host) && local.sync ? { icon_node_metrics_address = module.source_node[0].private_ip } : {},
  )
}

output "monitoring_service_account" {
  description = "Service account for the region's Prometheus (instance listing only), or null without monitoring_cidrs."
  value       = try(module.monitoring_discovery[0].service_account_email, null)
}

output "region_record" {
  description = "The DNS record iconctl passes to the global stack (region_records) for this region's hostname: an A record to the load balancer, which the Google-managed certificate needs to activate. null for a lone region, or when Cloud DNS publishes the hostname (dns_managed_zone)."
  value       = startswith(var.domain, "${var.region}.") && var.dns_managed_zone == "" ? { type = "A", value = module.lb.ip_address } : null
}

output "monitoring_network" {
  description = "What the region's monitoring host (stack gcp-monitoring) needs: the network, its subnetwork and the nodes' network tags (serving nodes, and the source node with sync)."
  value = {
    network    = module.network.network
    subnetwork = module.network.subnetwork
    node_tags  = concat([module.naming.gcp_prefix], local.sync ? ["${module.naming.gcp_prefix}-src"] : [])
  }
}
