# A public Route 53 hosted zone for one region's hostname, delegated from the Cloudflare zone
# that holds the parent domain. The region's ACM certificate validates through this zone and
# its alias record lives here, so it must resolve before the region's stack runs.

module "delegation" {
  source = "../dns-delegation"

  hostname     = var.hostname
  parent_zone  = var.cloudflare_zone
  name_servers = aws_route53_zone.this.name_servers
}

# DNSSEC would need a KMS key in us-east-1 and a DS record in the parent zone, which is only
# meaningful when the Cloudflare zone itself is signed; query logs would need a log group in
# us-east-1 per region. The zone answers a certificate validation record and one alias.
resource "aws_route53_zone" "this" {
  #checkov:skip=CKV2_AWS_38: DNSSEC of a delegated region zone needs a signed Cloudflare parent and a DS record there; a wrong DS takes the region off the air
  #checkov:skip=CKV2_AWS_39: query logging needs a us-east-1 log group per region; Cloudflare and the load balancer see the traffic
  name          = module.delegation.hostname
  comment       = "Delegated from the Cloudflare zone ${var.cloudflare_zone}; managed by iconctl."
  force_destroy = false
  tags          = var.tags

  lifecycle {
    postcondition {
      condition     = length(self.name_servers) == 4
      error_message = "Route 53 assigned ${length(self.name_servers)} name servers instead of 4; the delegation writes four NS records."
    }
  }
}

data "cloudflare_zone" "this" {
  name = var.cloudflare_zone
}

# Route 53 gives every public hosted zone exactly four name servers; their names are known
# only after apply, so the records are counted, not keyed by name.
resource "cloudflare_record" "ns" {
  count = 4

  zone_id = data.cloudflare_zone.this.id
  name    = module.delegation.relative_name
  type    = "NS"
  content = module.delegation.name_servers[count.index]
  ttl     = var.ns_ttl
  proxied = false
}
