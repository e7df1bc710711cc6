variables {
  name     = "icon-api"
  steering = "geo"
  regions = [
    { name = "us-east-1", cloud = "aws", continent = "NA", endpoint = "us-east-1.api.example.org" },
    { name = "eu-central-1", cloud = "aws", continent = "EU", endpoint = "eu-central-1.api.example.org" },
    { name = "asia-northeast1", cloud = "gcp", continent = "AS", endpoint = "asia-northeast1.api.example.org" },
  ]
}

run "three_continents_go_to_their_own_pools_first" {
  command = plan

  assert {
    condition     = output.region_pools["WNAM"] == ["us-east-1", "eu-central-1", "asia-northeast1"] && output.region_pools["ENAM"][0] == "us-east-1"
    error_message = "North American clients go to us-east-1 first"
  }
  assert {
    condition     = output.region_pools["WEU"] == ["eu-central-1", "us-east-1", "asia-northeast1"] && output.region_pools["EEU"][0] == "eu-central-1"
    error_message = "European clients go to eu-central-1 first, then North America"
  }
  assert {
    condition     = output.region_pools["NEAS"] == ["asia-northeast1", "us-east-1", "eu-central-1"] && output.region_pools["SEAS"][0] == "asia-northeast1"
    error_message = "Asian clients go to asia-northeast1 first"
  }
  assert {
    condition     = output.region_pools["OC"][0] == "asia-northeast1" && output.region_pools["SAF"][0] == "eu-central-1" && output.region_pools["SSAM"][0] == "us-east-1"
    error_message = "continents without a region fall back to the nearest one"
  }
  assert {
    condition     = alltrue([for cf, pools in output.region_pools : length(pools) == 3 && length(distinct(pools)) == 3])
    error_message = "every geographic region lists every pool exactly once (full failover)"
  }
  assert {
    condition     = output.steering_policy == "geo" && output.fallback_pool == "us-east-1" && output.default_pools == ["us-east-1", "eu-central-1", "asia-northeast1"]
    error_message = "geo steering, failover in the order given"
  }
}

run "a_pool_without_origins_probes_the_regional_endpoint" {
  command = plan

  assert {
    condition     = length(output.pools["eu-central-1"].origins) == 1 && output.pools["eu-central-1"].origins[0].address == "eu-central-1.api.example.org" && output.pools["eu-central-1"].minimum_origins == 1
    error_message = "without origins the pool's only origin is the regional endpoint"
  }
  assert {
    condition     = output.pools["asia-northeast1"].name == "icon-api-asia-northeast1" && output.pools["asia-northeast1"].check_regions == ["SEAS", "NEAS"]
    error_message = "pool names are <name>-<region>, health-checked from their own continent"
  }
}

run "region_health_needs_min_ready_nodes" {
  command = plan

  variables {
    regions = [
      { name = "us-east-2", cloud = "aws", continent = "north-america", endpoint = "us-east-2.api.example.org", origins = ["203.0.113.10", "203.0.113.11", "203.0.113.12"], min_ready = 2 },
    ]
  }

  assert {
    condition     = output.pools["us-east-2"].minimum_origins == 2 && length(output.pools["us-east-2"].origins) == 3
    error_message = "a region is healthy while at least min_ready of its nodes are ready"
  }
  assert {
    condition     = output.pools["us-east-2"].origins[1].name == "us-east-2-1" && output.pools["us-east-2"].origins[1].address == "203.0.113.11"
    error_message = "one origin per node address"
  }
}

run "middle_east_region_serves_its_own_clients_first" {
  command = plan

  variables {
    regions = [
      { name = "eu-central-1", cloud = "aws", continent = "EU", endpoint = "eu-central-1.api.example.org" },
      { name = "me-central-1", cloud = "aws", continent = "ME", endpoint = "me-central-1.api.example.org" },
    ]
  }

  assert {
    condition     = output.region_pools["ME"] == ["me-central-1", "eu-central-1"] && output.region_pools["WEU"] == ["eu-central-1", "me-central-1"]
    error_message = "Middle East clients go to the Middle East region first, Europeans to Europe"
  }
  assert {
    condition     = output.pools["me-central-1"].origins[0].host == "me-central-1.api.example.org"
    error_message = "origins are addressed with the region hostname as Host"
  }
}

run "dynamic_steering_has_no_geo_table" {
  command = plan

  variables {
    steering = "dynamic"
  }

  assert {
    condition     = output.steering_policy == "dynamic_latency" && length(output.region_pools) == 0
    error_message = "dynamic steering maps to dynamic_latency without region pools"
  }
}

run "off_is_failover_only" {
  command = plan

  variables {
    steering = "off"
  }

  assert {
    condition     = output.steering_policy == "off" && length(output.region_pools) == 0
    error_message = "steering off uses the default pools in order"
  }
}

run "rejects_an_unknown_continent" {
  command = plan

  variables {
    regions = [{ name = "x", cloud = "aws", continent = "atlantis", endpoint = "x.example.org" }]
  }

  expect_failures = [var.regions]
}

run "rejects_min_ready_above_the_node_count" {
  command = plan

  variables {
    regions = [{ name = "x", cloud = "aws", continent = "EU", endpoint = "x.example.org", origins = ["192.0.2.1"], min_ready = 2 }]
  }

  expect_failures = [var.regions]
}

run "rejects_duplicate_regions" {
  command = plan

  variables {
    regions = [
      { name = "x", cloud = "aws", continent = "EU", endpoint = "x.example.org" },
      { name = "x", cloud = "gcp", continent = "AS", endpoint = "y.example.org" },
    ]
  }

  expect_failures = [var.regions]
}

run "rejects_an_unknown_steering" {
  command = plan

  variables {
    steering = "random"
  }

  expect_failures = [var.steering]
}

run "a_load_balanced_region_is_monitored_as_a_whole" {
  command = plan

  variables {
    regions = [
      { name = "us-east-1", cloud = "aws", continent = "NA", endpoint = "us-east-1.api.example.org", behind_lb = true },
      { name = "eu-west-1", cloud = "aws", continent = "EU", endpoint = "eu-west-1.api.example.org" },
      { name = "us-east-2", cloud = "aws", continent = "NA", endpoint = "us-east-2.api.example.org", origins = ["203.0.113.10", "203.0.113.11"], min_ready = 2, behind_lb = true },
    ]
  }

  assert {
    condition     = output.pools["us-east-1"].monitor == "region" && output.pools["us-east-1"].minimum_origins == 1
    error_message = "a pool whose only origin is the regional load balancer asks the region aggregate"
  }
  assert {
    condition     = output.pools["eu-west-1"].monitor == "node" && output.pools["us-east-2"].monitor == "node"
    error_message = "a single node, and listed node origins, answer for themselves"
  }
  assert {
    condition     = join(",", output.monitors) == "node,region"
    error_message = "one monitor per kind in use"
  }
}

run "without_load_balanced_regions_one_monitor" {
  command = plan

  assert {
    condition     = join(",", output.monitors) == "node" && alltrue([for pool in values(output.pools) : pool.monitor == "node"])
    error_message = "regions not behind a load balancer keep the node monitor"
  }
}
