# The NS record a Cloudflare zone needs to delegate one region's hostname to Route 53.

module "delegation" {
  source = "../../modules/dns-delegation"

  hostname     = "us-east-1.api.example.org"
  parent_zone  = "example.org"
  name_servers = ["NS-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.", "ns-512.awsdns-00.net."]
}

output "relative_name" {
  value = module.delegation.relative_name
}

output "name_servers" {
  value = module.delegation.name_servers
}
