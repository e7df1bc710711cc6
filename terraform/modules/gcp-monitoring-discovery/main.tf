# The identity of a region's Prometheus server on GCP: a service account holding one custom
# role with the single permission gce_sd_configs needs, compute.instances.list (the nodes are
# found by their iconctl-name and iconctl-role labels). roles/compute.viewer would also read
# disks, networks, firewalls and more; nothing here can change anything.

locals {
  # Service account ids: 6-30 characters; long names keep a digest to stay unique.
  account_id = length(var.name) <= 25 ? "${var.name}-prom" : "${trimsuffix(substr(var.name, 0, 20), "-")}-${substr(sha256(var.name), 0, 4)}p"
  # Custom role ids: letters, digits, underscores and dots, 3-64 characters.
  role_id = "${substr(replace(var.name, "-", "_"), 0, 40)}_prometheus_discovery"
}

resource "google_service_account" "this" {
  project      = var.project
  account_id   = local.account_id
  display_name = "Prometheus discovery ${var.name}"
  description  = "Lists the project's instances for Prometheus service discovery (read-only)"
}

resource "google_project_iam_custom_role" "this" {
  project     = var.project
  role_id     = local.role_id
  title       = "Prometheus discovery ${var.name}"
  description = "List instances, nothing else: what Prometheus gce_sd_configs calls"
  permissions = ["compute.instances.list"]
}

resource "google_project_iam_member" "this" {
  project = var.project
  role    = google_project_iam_custom_role.this.id
  member  = "serviceAccount:${google_service_account.this.email}"
}
