variables {
  zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

run "default_layout" {
  command = plan

  assert {
    condition     = output.public_subnets["us-east-1a"] == "10.42.0.0/20" && output.public_subnets["us-east-1b"] == "10.42.16.0/20" && output.public_subnets["us-east-1c"] == "10.42.32.0/20"
    error_message = "three /20 subnets carved in order from 10.42.0.0/16"
  }
  assert {
    condition     = output.public_subnet_list == ["10.42.0.0/20", "10.42.16.0/20", "10.42.32.0/20"]
    error_message = "the list follows the order of zones"
  }
}

run "adding_a_zone_keeps_existing_subnets" {
  command = plan

  variables {
    zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
  }

  assert {
    condition     = output.public_subnets["us-east-1a"] == run.default_layout.public_subnets["us-east-1a"] && output.public_subnets["us-east-1d"] == "10.42.48.0/20"
    error_message = "a zone appended at the end must not move existing subnets"
  }
}

run "custom_range" {
  command = plan

  variables {
    cidr_block           = "172.20.0.0/22"
    subnet_prefix_length = 24
    zones                = ["a", "b"]
  }

  assert {
    condition     = output.public_subnet_list == ["172.20.0.0/24", "172.20.1.0/24"]
    error_message = "a /22 split into /24s"
  }
}

run "too_many_zones_for_the_range" {
  command = plan

  variables {
    cidr_block           = "10.0.0.0/24"
    subnet_prefix_length = 26
    zones                = ["a", "b", "c", "d", "e"]
  }

  expect_failures = [output.public_subnets]
}

run "rejects_a_bad_cidr" {
  command = plan

  variables {
    cidr_block = "10.0.0.300/16"
  }

  expect_failures = [var.cidr_block]
}

run "rejects_duplicate_zones" {
  command = plan

  variables {
    zones = ["a", "a"]
  }

  expect_failures = [var.zones]
}
