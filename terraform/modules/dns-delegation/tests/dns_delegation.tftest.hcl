variables {
  hostname    = "us-east-1.api.example.org"
  parent_zone = "example.org"
}

run "region_hostname_below_the_zone" {
  command = plan

  assert {
    condition     = output.relative_name == "us-east-1.api"
    error_message = "the record name should be the hostname relative to the zone"
  }
  assert {
    condition     = output.hostname == "us-east-1.api.example.org"
    error_message = "the hostname should be kept as given"
  }
}

run "trailing_dots_and_case_are_normalised" {
  command = plan

  variables {
    hostname     = "EU-Central-1.API.Example.org."
    parent_zone  = "example.ORG."
    name_servers = ["NS-1.awsdns-01.org.", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com.", "ns-4.awsdns-04.net."]
  }

  assert {
    condition     = output.relative_name == "eu-central-1.api" && output.hostname == "eu-central-1.api.example.org"
    error_message = "names should be lower case without the trailing dot"
  }
  assert {
    condition     = output.name_servers == ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com", "ns-4.awsdns-04.net"]
    error_message = "name servers should be lower case without trailing dots, order kept"
  }
}

run "zone_one_level_up" {
  command = plan

  variables {
    hostname    = "asia-northeast1.example.org"
    parent_zone = "example.org"
  }

  assert {
    condition     = output.relative_name == "asia-northeast1"
    error_message = "a hostname directly below the zone is a single label"
  }
}

run "the_apex_cannot_be_delegated" {
  command = plan

  variables {
    hostname = "example.org"
  }

  expect_failures = [output.hostname, output.relative_name]
}

run "a_look_alike_zone_is_refused" {
  command = plan

  variables {
    hostname    = "us-east-1.badexample.org"
    parent_zone = "example.org"
  }

  expect_failures = [output.hostname, output.relative_name]
}

run "a_name_that_is_not_dns_is_refused" {
  command = plan

  variables {
    hostname = "us_east_1.api.example.org"
  }

  expect_failures = [var.hostname]
}
