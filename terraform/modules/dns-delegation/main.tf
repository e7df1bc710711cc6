# How a hostname is delegated from its parent zone: the record's name relative to that zone
# and the name servers it points at, normalised. Provider-less, so `terraform test` checks it.

locals {
  hostname    = lower(trimsuffix(var.hostname, "."))
  parent_zone = lower(trimsuffix(var.parent_zone, "."))

  # Strictly below the parent: "us-east-1.api.example.org" under "example.org", never the
  # apex itself and never a look-alike such as "badexample.org".
  inside_parent = endswith(local.hostname, ".${local.parent_zone}")
  relative_name = local.inside_parent ? trimsuffix(local.hostname, ".${local.parent_zone}") : null

  name_servers = [for server in var.name_servers : lower(trimsuffix(server, "."))]
}
