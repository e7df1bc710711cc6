output "vpc_id" {
  description = "ID of the VPC (created or reused)."
  value       = local.create ? try(aws_vpc.this[0].id, null) : var.vpc_id
}

output "vpc_cidr_block" {
  description = "IPv4 range of a created VPC; null for a reused one."
  value       = local.create ? try(aws_vpc.this[0].cidr_block, null) : null
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, one per zone."
  value       = local.create ? [for zone in try(module.plan[0].zones, []) : aws_subnet.public[zone].id] : var.subnet_ids
}
