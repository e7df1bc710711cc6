output "cidrs" {
  description = "Ranges allowed to reach the agents' readiness endpoint from outside."
  value       = local.cidrs
}
