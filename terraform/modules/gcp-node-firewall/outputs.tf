output "rule_names" {
  description = "Names of the firewall rules the module made."
  value = compact(concat(
    [google_compute_firewall.p2p.name],
    google_compute_firewall.web[*].name,
    google_compute_firewall.from_lb[*].name,
    google_compute_firewall.agent[*].name,
    google_compute_firewall.metrics[*].name,
    google_compute_firewall.ssh[*].name,
  ))
}
