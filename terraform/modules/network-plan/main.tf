# Subnet layout of one regional network: one public subnet per zone, carved in order from
# the start of the range so adding a zone at the end never moves existing subnets.

locals {
  network_bits = tonumber(split("/", var.cidr_block)[1])
  newbits      = var.subnet_prefix_length - local.network_bits
  capacity     = local.newbits > 0 ? pow(2, local.newbits) : 0

  public_subnets = {
    for index, zone in var.zones : zone => cidrsubnet(var.cidr_block, local.newbits, index)
    if index < local.capacity
  }
}
