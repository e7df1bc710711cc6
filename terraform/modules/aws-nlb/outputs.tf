output "dns_name" {
  description = "DNS name of the load balancer."
  value       = try(aws_lb.this.dns_name, null)
}

output "zone_id" {
  description = "Route 53 zone ID of the load balancer (for aliases)."
  value       = try(aws_lb.this.zone_id, null)
}

output "arn" {
  description = "ARN of the load balancer."
  value       = try(aws_lb.this.arn, null)
}

output "security_group_id" {
  description = "Security group of the load balancer; the nodes allow their proxy and agent ports from it."
  value       = try(aws_security_group.this.id, null)
}

output "target_group_arns" {
  description = "Target groups the nodes register in (RPC, and the agent one when health checkers are configured)."
  value       = concat([aws_lb_target_group.rpc.arn], aws_lb_target_group.agent[*].arn)
}

output "certificate_arn" {
  description = "ARN of the validated ACM certificate."
  value       = try(aws_acm_certificate_validation.this.certificate_arn, null)
}

output "hostnames" {
  description = "Hostnames aliased to the load balancer."
  value       = [for record in aws_route53_record.alias : record.fqdn]
}
