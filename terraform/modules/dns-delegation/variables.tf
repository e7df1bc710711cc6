variable "hostname" {
  type        = string
  description = "The name delegated to its own zone, e.g. us-east-1.api.example.org (a trailing dot and upper case are accepted)."

  validation {
    condition     = can(regex("^([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\\.?$", var.hostname))
    error_message = "hostname must be a DNS name of two or more labels (letters, digits, hyphens)."
  }
}

variable "parent_zone" {
  type        = string
  description = "The zone that holds the delegation (NS records), e.g. example.org; the hostname must lie strictly below it."

  validation {
    condition     = can(regex("^([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\\.)*[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\\.?$", var.parent_zone))
    error_message = "parent_zone must be a DNS name (letters, digits, hyphens)."
  }
}

variable "name_servers" {
  type        = list(string)
  description = "Name servers of the delegated zone, as the DNS provider reports them (trailing dots and upper case are normalised away)."
  default     = []
}
