# The ranges allowed to probe a region's agents when Cloudflare load-balances over it.

module "ranges" {
  source = "../../modules/health-checker-ranges"

  behind_global_lb = true
}

output "cidrs" {
  value = module.ranges.cidrs
}
