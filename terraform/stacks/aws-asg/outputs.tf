# What the orchestration passes on to the Ansible inventory, the global stack and the
# status command. Serving nodes come and go with the group: list them by the group name
# (or the iconctl-region tag) at run time.

output "hostname" {
  description = "This region's hostname (the global load balancer's origin)."
  value       = var.domain
}

output "service_domain" {
  description = "The public hostname the fleet serves."
  value       = local.service_domain
}

output "lb_dns_name" {
  description = "DNS name of the regional network load balancer."
  value       = module.lb.dns_name
}

output "lb_zone_id" {
  description = "Route 53 zone ID of the load balancer."
  value       = module.lb.zone_id
}

output "autoscaling_group_name" {
  description = "Autoscaling group of the serving nodes."
  value       = module.nodes.autoscaling_group_name
}

output "source_public_ip" {
  description = "Elastic IP of the source-of-truth node (the inventory's icon_source host), or null without sync."
  value       = local.sync ? module.source_node[0].public_ip : null
}

output "source_private_ip" {
  description = "Private address of the source-of-truth node, or null without sync."
  value       = local.sync ? module.source_node[0].private_ip : null
}

output "source_instance_id" {
  description = "EC2 instance ID of the source-of-truth node, or null without sync."
  value       = local.sync ? module.source_node[0].instance_id : null
}

output "snapshot_bucket" {
  description = "The region's snapshot bucket, or null without sync."
  value       = local.sync ? module.snapshots[0].bucket : null
}

output "snapshot_store" {
  description = "Snapshot store URL of the region, or null without sync."
  value       = local.sync ? local.snapshot_store : null
}

output "vpc_id" {
  description = "VPC of the region."
  value       = module.network.vpc_id
}

output "ansible_hosts" {
  description = "Inventory groups to addresses. Serving nodes configure themselves at boot; the source node too when it boots the baked image, otherwise Ansible configures it (icon_source)."
  value = {
    icon_nodes  = []
    icon_source = local.sync && var.image_id == null ? compact([module.source_node[0].public_ip]) : []
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
    (length(var.monitoring_cidrs) > 0 || var.monitoring_host) && local.sync ? { icon_node_metrics_address = module.source_node[0].private_ip } : {},
  )
}

output "monitoring_instance_profile" {
  description = "Instance profile for the region's Prometheus (EC2 discovery, read-only), or null without monitoring_cidrs."
  value       = try(module.monitoring_discovery[0].instance_profile_name, null)
}

output "monitoring_network" {
  description = "What the region's monitoring host (stack aws-monitoring) needs: the VPC, its range (null for a reused VPC), the public subnets and the nodes' security groups (serving nodes, and the source node with sync)."
  value = {
    vpc_id                  = module.network.vpc_id
    vpc_cidr_block          = module.network.vpc_cidr_block
    subnet_ids              = module.network.public_subnet_ids
    node_security_group_ids = concat([module.nodes.security_group_id], local.sync ? [module.source_node[0].security_group_id] : [])
  }
}
