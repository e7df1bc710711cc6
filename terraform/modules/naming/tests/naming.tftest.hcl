variables {
  name   = "icon-api"
  region = "us-east-1"
  domain = "api.example.org"
}

run "short_names_are_kept_whole" {
  command = plan

  assert {
    condition     = output.prefix == "icon-api-us-east-1"
    error_message = "prefix should be <name>-<region>"
  }
  assert {
    condition     = output.lb_name == "icon-api-us-east-1"
    error_message = "a short load balancer name should not be truncated"
  }
  assert {
    condition     = output.regional_hostname == "us-east-1.api.example.org"
    error_message = "regional hostname should be <region>.<domain>"
  }
  assert {
    condition     = output.snapshot_bucket == null
    error_message = "an empty snapshot bucket means sync is disabled"
  }
}

run "long_names_fit_the_limits" {
  command = plan

  variables {
    name   = "a-rather-long-deployment-name-for-icon"
    region = "northamerica-northeast2"
  }

  assert {
    condition     = length(output.lb_name) <= 32 && length(output.target_group_prefix) <= 26
    error_message = "AWS names must fit 32 characters with room for a role suffix"
  }
  assert {
    condition     = length(output.gcp_prefix) <= 52 && can(regex("^[a-z]([-a-z0-9]*[a-z0-9])?$", output.gcp_prefix))
    error_message = "GCP names must be valid and leave room for a suffix"
  }
  assert {
    condition = alltrue([
      for id in [output.service_account_id, output.source_service_account_id] :
      can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", id))
    ]) && output.service_account_id != output.source_service_account_id
    error_message = "service account ids are valid (6-30 characters) and distinct"
  }
  assert {
    condition     = !endswith(output.lb_name, "--") && can(regex("-[0-9a-f]{6}$", output.lb_name))
    error_message = "a truncated name ends in a 6-character digest"
  }
}

run "truncated_names_stay_unique" {
  command = plan

  variables {
    name   = "a-rather-long-deployment-name-for-icon"
    region = "northamerica-northeast1"
  }

  assert {
    condition     = output.lb_name != run.long_names_fit_the_limits.lb_name
    error_message = "two regions sharing a long prefix must get different names"
  }
}

run "labels_are_valid_gcp_labels" {
  command = plan

  variables {
    tags = { "Team" = "Node Ops", "cost.center" = "ICON" }
  }

  assert {
    condition     = output.labels["team"] == "node_ops" && output.labels["cost_center"] == "icon"
    error_message = "labels must be lowercased with invalid characters replaced"
  }
  assert {
    condition     = output.tags["managed-by"] == "iconctl" && output.tags["Team"] == "Node Ops"
    error_message = "tags keep the caller's values and add iconctl's"
  }
}

run "rejects_an_invalid_name" {
  command = plan

  variables {
    name = "Icon_API"
  }

  expect_failures = [var.name]
}

run "rejects_an_invalid_bucket" {
  command = plan

  variables {
    snapshot_bucket = "Not A Bucket"
  }

  expect_failures = [var.snapshot_bucket]
}
