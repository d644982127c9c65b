output "namespace" {
  description = "Namespace the platform runs in."
  value       = helm_release.platform.namespace
}

output "release_status" {
  description = "Status of the Helm release (deployed when healthy)."
  value       = helm_release.platform.status
}
