variables {
  network    = "mainnet"
  node_image = "iconloop/icon2-node:v1.4.2"
}

run "baked_node_starts_its_compose_stack" {
  command = plan

  variables {
    compose_env = {
      COMPOSE_FILE       = "compose.yaml:compose.asg.yaml:compose.restore.yaml"
      ICON_RESTORE_STORE = "s3://icon-api-snapshots-us-east-1/mainnet"
    }
  }

  assert {
    condition     = startswith(output.cloud_config, "#cloud-config\n") && can(yamldecode(output.cloud_config))
    error_message = "user data must be valid #cloud-config YAML"
  }
  assert {
    condition     = strcontains(output.cloud_config, "path: /opt/icon/compose/.env") && strcontains(output.cloud_config, "      COMPOSE_FILE=compose.yaml:compose.asg.yaml:compose.restore.yaml\n") && strcontains(output.cloud_config, "      ICON_DATA_DIR=/var/lib/icon\n")
    error_message = "a baked node gets the rendered compose .env, plus where its data disk is mounted"
  }
  assert {
    condition     = contains(yamldecode(output.cloud_config).runcmd, ["docker", "compose", "--project-directory", "/opt/icon/compose", "up", "--detach"])
    error_message = "a baked node starts its compose stack"
  }
  assert {
    condition     = !strcontains(output.cloud_config, "packages:") && !strcontains(output.cloud_config, "iconctl sync")
    error_message = "a baked node installs nothing; restore and snapshots are compose services"
  }
}

run "ansible_node_only_prepares_its_disk" {
  command = plan

  variables {
    image_mode     = "ansible"
    snapshot_store = "s3://icon-api-snapshots-us-east-1/mainnet"
  }

  assert {
    condition     = yamldecode(output.cloud_config).runcmd == [["/usr/local/sbin/iconctl-data-disk"]]
    error_message = "Ansible configures the node; user data only mounts the data disk"
  }
}

run "container_node_restores_before_starting" {
  command = plan

  variables {
    image_mode     = "container"
    network        = "lisbon"
    snapshot_store = "s3://icon-api-snapshots-us-east-1/lisbon"
    data_disks     = "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*"
  }

  assert {
    condition     = strcontains(output.cloud_config, "iconctl sync restore --store s3://icon-api-snapshots-us-east-1/lisbon --data-dir /var/lib/icon/data")
    error_message = "a node with sync restores from its region's store"
  }
  assert {
    condition     = index(yamldecode(output.cloud_config).runcmd, ["systemctl", "start", "iconctl-restore.service"]) < index(yamldecode(output.cloud_config).runcmd, ["systemctl", "enable", "--now", "icon-node.service"])
    error_message = "the restore runs before the node starts"
  }
  assert {
    condition     = index(yamldecode(output.cloud_config).runcmd, ["systemctl", "enable", "--now", "iconctl-agent.service"]) < index(yamldecode(output.cloud_config).runcmd, ["systemctl", "start", "iconctl-restore.service"])
    error_message = "the agent starts before the restore, so liveness checks find it answering during the boot grace"
  }
  assert {
    condition     = !strcontains(output.cloud_config, "After=icon-node.service\n\n      [Service]\n      DynamicUser=yes")
    error_message = "the agent's unit does not wait for the node"
  }
  assert {
    condition     = strcontains(output.cloud_config, "-p 127.0.0.1:9000:9000") && strcontains(output.cloud_config, "SERVICE=LisbonNet")
    error_message = "the container's RPC port is bound to loopback only"
  }
  assert {
    condition     = !strcontains(output.cloud_config, "iconctl-snapshot.timer") && !strcontains(output.cloud_config, "certbot")
    error_message = "an ordinary node takes no snapshots and has no certbot"
  }
  assert {
    condition     = strcontains(output.cloud_config, "pattern='/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*'")
    error_message = "the data disk glob reaches the disk setup script"
  }
  assert {
    condition     = strcontains(output.cloud_config, "location / { return 404; }") && !strcontains(output.cloud_config, "location /admin")
    error_message = "the proxy passes only the JSON-RPC routes"
  }
}

run "source_node_runs_the_snapshot_timer" {
  command = plan

  variables {
    image_mode            = "container"
    role                  = "source"
    snapshot_store        = "gs://icon-api-snapshots-asia-northeast1/mainnet"
    sync_interval_minutes = 30
    sync_keep             = 12
  }

  assert {
    condition     = strcontains(output.cloud_config, "OnUnitInactiveSec=30min") && strcontains(output.cloud_config, "iconctl sync prune --store gs://icon-api-snapshots-asia-northeast1/mainnet --keep 12")
    error_message = "the source node snapshots every interval and keeps sync_keep snapshots"
  }
  assert {
    condition     = contains(yamldecode(output.cloud_config).runcmd, ["systemctl", "enable", "--now", "iconctl-snapshot.timer"])
    error_message = "the snapshot timer is enabled"
  }
}

run "single_node_gets_a_certificate" {
  command = plan

  variables {
    image_mode = "container"
    tls_domain = "node.example.org"
    tls_email  = "ops@example.org"
  }

  assert {
    condition     = contains(yamldecode(output.cloud_config).runcmd, ["certbot", "--nginx", "--non-interactive", "--agree-tos", "--redirect", "-m", "ops@example.org", "-d", "node.example.org"])
    error_message = "certbot obtains the certificate for the node's domain"
  }
  assert {
    condition     = contains(yamldecode(output.cloud_config).packages, "python3-certbot-nginx")
    error_message = "certbot's nginx plugin is installed"
  }
}

run "asg_node_drains_before_termination" {
  command = plan

  variables {
    image_mode           = "container"
    drain_on_termination = "aws"
    drain_seconds        = 90
  }

  assert {
    condition     = strcontains(output.cloud_config, "autoscaling/target-lifecycle-state") && strcontains(output.cloud_config, "sleep 90")
    error_message = "the drain watcher polls the lifecycle state and waits drain_seconds"
  }
  assert {
    condition     = contains(yamldecode(output.cloud_config).runcmd, ["systemctl", "enable", "--now", "iconctl-drain-watch.service"])
    error_message = "the drain watcher is enabled"
  }
}

run "baked_node_drains_through_compose" {
  command = plan

  variables {
    drain_on_termination = "aws"
  }

  assert {
    condition     = strcontains(output.cloud_config, "docker compose --project-directory /opt/icon/compose stop agent")
    error_message = "a baked node drains by stopping the agent service of its compose stack"
  }
}

run "no_drain_watcher_by_default" {
  command = plan

  assert {
    condition     = !strcontains(output.cloud_config, "iconctl-drain-watch")
    error_message = "single nodes have no drain watcher"
  }
}

run "tls_without_email_is_refused" {
  command = plan

  variables {
    image_mode = "container"
    tls_domain = "node.example.org"
  }

  expect_failures = [output.cloud_config]
}

run "rejects_an_unknown_network" {
  command = plan

  variables {
    network = "testnet"
  }

  expect_failures = [var.network]
}

run "rejects_a_store_that_is_not_a_bucket" {
  command = plan

  variables {
    snapshot_store = "file:///tmp/x; rm -rf /"
  }

  expect_failures = [var.snapshot_store]
}

run "baked_node_moves_metrics_to_its_private_address_with_monitoring" {
  command = plan

  variables {
    compose_env                = { COMPOSE_FILE = "compose.yaml:compose.node-exporter.yaml" }
    metrics_on_private_address = true
  }

  assert {
    condition     = index(yamldecode(output.cloud_config).runcmd, ["/usr/local/sbin/iconctl-metrics-address"]) < index(yamldecode(output.cloud_config).runcmd, ["docker", "compose", "--project-directory", "/opt/icon/compose", "up", "--detach"])
    error_message = "the metrics address is written before the stack starts"
  }
  assert {
    condition     = strcontains(output.cloud_config, "ICON_NODE_EXPORTER_LISTEN=%s:9100") && strcontains(output.cloud_config, "ICON_VECTOR_METRICS_LISTEN=%s:9598") && strcontains(output.cloud_config, "10.*|192.168.*|172.1[6-9].*|172.2[0-9].*|172.3[01].*) ;;")
    error_message = "only a private address replaces the loopback default"
  }
}

run "without_monitoring_metrics_stay_on_loopback" {
  command = plan

  variables {
    compose_env = { COMPOSE_FILE = "compose.yaml:compose.node-exporter.yaml" }
  }

  assert {
    condition     = !strcontains(output.cloud_config, "iconctl-metrics-address") && !strcontains(output.cloud_config, "ICON_NODE_EXPORTER_LISTEN")
    error_message = "without monitoring the exporters keep their loopback default"
  }
}

run "baked_node_counts_its_region_through_the_load_balancer" {
  command = plan

  variables {
    compose_env          = { COMPOSE_FILE = "compose.yaml:compose.asg.yaml" }
    region_health_source = "aws:arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/icon-rpc/0123456789abcdef"
    region_min_ready     = 2
  }

  assert {
    condition     = strcontains(output.cloud_config, "      ICON_REGION_SOURCE=aws:arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/icon-rpc/0123456789abcdef\n") && strcontains(output.cloud_config, "      ICON_REGION_MIN_READY=2\n")
    error_message = "the compose agent gets the region source and min_ready from the .env"
  }
}

run "container_node_passes_the_region_source_as_flags" {
  command = plan

  variables {
    image_mode           = "container"
    region_health_source = "gcp:my-project/icon-rpc/asia-northeast1/icon-nodes"
    region_min_ready     = 3
  }

  assert {
    condition     = strcontains(output.cloud_config, " --region-source gcp:my-project/icon-rpc/asia-northeast1/icon-nodes --region-min-ready 3\n")
    error_message = "the systemd agent gets --region-source and --region-min-ready"
  }
}

run "no_region_source_no_region_settings" {
  command = plan

  variables {
    compose_env = { COMPOSE_FILE = "compose.yaml" }
  }

  assert {
    condition     = !strcontains(output.cloud_config, "ICON_REGION_SOURCE") && !strcontains(output.cloud_config, "--region-source")
    error_message = "without a source the agent's /region/readyz stays unconfigured"
  }
}

run "rejects_a_region_source_that_is_not_a_target_group" {
  command = plan

  variables {
    region_health_source = "aws:arn:aws:s3:::bucket"
  }

  expect_failures = [var.region_health_source]
}

run "rejects_min_ready_below_one" {
  command = plan

  variables {
    region_min_ready = 0
  }

  expect_failures = [var.region_min_ready]
}

run "asg_node_replaces_itself_on_liveness" {
  command = plan

  variables {
    compose_env           = { COMPOSE_FILE = "compose.yaml" }
    boot_grace_seconds    = 11340
    replace_unhealthy     = "aws"
    replace_after_seconds = 300
  }

  assert {
    condition     = strcontains(output.cloud_config, "ICON_BOOT_GRACE_SECONDS=11340\n") && strcontains(output.cloud_config, "ICON_REPLACE_UNHEALTHY=aws\n") && strcontains(output.cloud_config, "ICON_REPLACE_AFTER_SECONDS=300\n")
    error_message = "the compose agent gets the boot grace and replaces its instance on liveness"
  }
}

run "container_node_passes_the_liveness_settings_as_flags" {
  command = plan

  variables {
    image_mode         = "container"
    boot_grace_seconds = 600
    replace_unhealthy  = "aws"
  }

  assert {
    condition     = strcontains(output.cloud_config, " --boot-grace 600 --replace-unhealthy aws --replace-after 300\n")
    error_message = "the systemd agent gets --boot-grace, --replace-unhealthy and --replace-after"
  }
}

run "no_grace_and_no_self_replacement_by_default" {
  command = plan

  variables {
    compose_env = { COMPOSE_FILE = "compose.yaml" }
  }

  assert {
    condition     = !strcontains(output.cloud_config, "ICON_BOOT_GRACE_SECONDS") && !strcontains(output.cloud_config, "ICON_REPLACE_UNHEALTHY")
    error_message = "a single node neither gets a grace nor replaces itself"
  }
}

run "rejects_an_unknown_replacement" {
  command = plan

  variables {
    replace_unhealthy = "gcp"
  }

  expect_failures = [var.replace_unhealthy]
}
