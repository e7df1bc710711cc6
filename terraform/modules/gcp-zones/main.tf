# GCP zone names are global (unlike AWS's per-account letters), so a region's zones can be
# known without an API call. Most regions have zones a, b and c; the exceptions are listed.

locals {
  zone_letters = {
    "us-central1"  = ["a", "b", "c", "f"]
    "us-east1"     = ["b", "c", "d"]
    "europe-west1" = ["b", "c", "d"]
  }

  letters = lookup(local.zone_letters, var.region, ["a", "b", "c"])
  zones   = [for letter in slice(local.letters, 0, min(var.zone_count, length(local.letters))) : "${var.region}-${letter}"]
}
