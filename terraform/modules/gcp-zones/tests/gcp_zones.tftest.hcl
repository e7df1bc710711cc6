run "ordinary_region" {
  command = plan

  variables {
    region = "asia-northeast1"
  }

  assert {
    condition     = output.zones == ["asia-northeast1-a", "asia-northeast1-b", "asia-northeast1-c"]
    error_message = "most regions have zones a, b and c"
  }
}

run "region_without_zone_a" {
  command = plan

  variables {
    region     = "us-east1"
    zone_count = 2
  }

  assert {
    condition     = output.zones == ["us-east1-b", "us-east1-c"]
    error_message = "us-east1 has no zone a"
  }
}

run "rejects_an_aws_region_name" {
  command = plan

  variables {
    region = "us-east-1"
  }

  expect_failures = [var.region]
}
