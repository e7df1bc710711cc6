output "bucket" {
  description = "Name of the state bucket."
  value       = module.this.bucket
}
