# First-boot configuration of a node as cloud-init user data. Every cloud module renders its
# user data here, so AWS and GCP nodes boot the same way and the result can be tested offline.

locals {
  service = {
    mainnet = "MainNet"
    lisbon  = "LisbonNet"
    berlin  = "BerlinNet"
  }[var.network]

  references = {
    mainnet = ["https://ctz.solidwallet.io/api/v3", "https://api.icon.community/api/v3"]
    lisbon  = ["https://lisbon.net.solidwallet.io/api/v3"]
    berlin  = ["https://berlin.net.solidwallet.io/api/v3"]
  }[var.network]

  sync_enabled = var.snapshot_store != ""

  # /region/readyz: the compose agent reads these from the .env (baked mode), the systemd
  # agent gets them as flags (container mode).
  region_env = var.region_health_source == "" ? {} : {
    ICON_REGION_SOURCE    = var.region_health_source
    ICON_REGION_MIN_READY = tostring(var.region_min_ready)
  }
  region_flags = var.region_health_source == "" ? "" : " --region-source ${var.region_health_source} --region-min-ready ${var.region_min_ready}"
  tls_enabled  = var.tls_domain != null

  # Liveness and replacement (docs/agent.md): the same values for both ways of running.
  liveness_env = merge(
    var.boot_grace_seconds > 0 ? { ICON_BOOT_GRACE_SECONDS = tostring(var.boot_grace_seconds) } : {},
    var.replace_unhealthy == "" ? {} : {
      ICON_REPLACE_UNHEALTHY     = var.replace_unhealthy
      ICON_REPLACE_AFTER_SECONDS = tostring(var.replace_after_seconds)
    },
  )
  liveness_flags = join("", [
    var.boot_grace_seconds > 0 ? " --boot-grace ${var.boot_grace_seconds}" : "",
    var.replace_unhealthy == "" ? "" : " --replace-unhealthy ${var.replace_unhealthy} --replace-after ${var.replace_after_seconds}",
  ])

  env = {
    ICON_NETWORK          = var.network
    ICON_SERVICE          = local.service
    ICON_NODE_IMAGE       = var.node_image
    ICON_RPC_PORT         = tostring(var.rpc_port)
    ICON_P2P_PORT         = tostring(var.p2p_port)
    ICON_AGENT_PORT       = tostring(var.agent_port)
    ICON_PROXY_PORT       = tostring(var.proxy_port)
    ICON_DATA_DIR         = "${var.data_dir}/data"
    ICON_ROLE             = var.role
    ICON_SNAPSHOT_STORE   = var.snapshot_store
    ICON_SYNC_INTERVAL    = tostring(var.sync_interval_minutes)
    ICON_SYNC_KEEP        = tostring(var.sync_keep)
    ICON_TLS_DOMAIN       = var.tls_domain == null ? "" : var.tls_domain
    ICON_AGENT_REFERENCES = join(" ", local.references)
  }

  cloud_config = templatefile("${path.module}/templates/cloud-config.yaml.tftpl", {
    env             = local.env
    role            = var.role
    image_mode      = var.image_mode
    service         = local.service
    node_image      = var.node_image
    rpc_port        = var.rpc_port
    p2p_port        = var.p2p_port
    agent_port      = var.agent_port
    proxy_port      = var.proxy_port
    data_dir        = var.data_dir
    data_disks      = var.data_disks
    sync_enabled    = local.sync_enabled
    snapshot_store  = var.snapshot_store
    sync_interval   = var.sync_interval_minutes
    sync_keep       = var.sync_keep
    tls_enabled     = local.tls_enabled
    tls_domain      = var.tls_domain == null ? "" : var.tls_domain
    tls_email       = var.tls_email == null ? "" : var.tls_email
    references      = local.references
    iconctl_version = var.iconctl_version
    compose_env     = merge({ ICON_DATA_DIR = var.data_dir }, var.compose_env, local.region_env, local.liveness_env)
    region_flags    = "${local.region_flags}${local.liveness_flags}"
    compose_dir     = var.compose_dir
    drain           = var.drain_on_termination
    drain_seconds   = var.drain_seconds
    private_metrics = var.metrics_on_private_address
  })
}
