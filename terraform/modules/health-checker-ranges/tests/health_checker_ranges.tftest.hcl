run "origin_of_the_global_load_balancer" {
  command = plan

  variables {
    behind_global_lb = true
  }

  assert {
    condition     = length(output.cidrs) == 15 && contains(output.cidrs, "173.245.48.0/20") && !contains(output.cidrs, "0.0.0.0/0")
    error_message = "behind Cloudflare, its monitors' ranges may probe the agents"
  }
}

run "lone_region" {
  command = plan

  variables {
    behind_global_lb = false
  }

  assert {
    condition     = length(output.cidrs) == 0
    error_message = "a lone region exposes its agents to nobody"
  }
}

run "operator_override" {
  command = plan

  variables {
    behind_global_lb = true
    override         = ["192.0.2.0/24"]
  }

  assert {
    condition     = output.cidrs == tolist(["192.0.2.0/24"])
    error_message = "the operator's ranges replace the default"
  }
}

run "rejects_the_whole_internet" {
  command = plan

  variables {
    behind_global_lb = true
    override         = ["0.0.0.0/0"]
  }

  expect_failures = [var.override]
}
