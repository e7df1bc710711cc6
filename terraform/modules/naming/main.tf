# Names for every resource of one deployment in one region, computed once so that all
# modules agree and every cloud's length and character limits hold.

locals {
  full = "${var.name}-${var.region}"

  # A short, stable suffix keeps truncated names unique: two long regions that share a
  # prefix still get different names.
  digest = substr(md5(local.full), 0, 6)

  # AWS load balancer and target group names: at most 32 characters.
  lb_name = length(local.full) <= 32 ? local.full : "${trimsuffix(substr(local.full, 0, 25), "-")}-${local.digest}"
  # Target group names leave room for a 5-character role suffix ("-rpc", "-agnt").
  tg_base = length(local.full) <= 26 ? local.full : "${trimsuffix(substr(local.full, 0, 19), "-")}-${local.digest}"

  # GCP resource names: at most 63 characters, [a-z]([-a-z0-9]*[a-z0-9])?; leave room for
  # a 10-character suffix such as "-template".
  gcp_base = length(local.full) <= 52 ? local.full : "${trimsuffix(substr(local.full, 0, 45), "-")}-${local.digest}"

  # GCP service account ids: 6-30 characters.
  sa_id = length(local.full) <= 26 ? "${local.full}-sa" : "${trimsuffix(substr(local.full, 0, 21), "-")}-${local.digest}"
  # The source-of-truth node's own account.
  source_sa_id = length(local.full) <= 25 ? "${local.full}-src" : "${trimsuffix(substr(local.full, 0, 19), "-")}-${local.digest}-s"

  # The regional hostname the global load balancer sends traffic to, e.g.
  # us-east-1.api.example.org.
  regional_hostname = "${var.region}.${var.domain}"

  base_tags = {
    "iconctl-name"   = var.name
    "iconctl-region" = var.region
    "managed-by"     = "iconctl"
  }
  tags = merge(var.tags, local.base_tags)

  # GCP labels: lowercase keys and values, at most 63 characters, [a-z0-9_-].
  labels = {
    for key, value in local.tags :
    substr(replace(lower(key), "/[^a-z0-9_-]/", "_"), 0, 63) => substr(replace(lower(value), "/[^a-z0-9_-]/", "_"), 0, 63)
  }
}
