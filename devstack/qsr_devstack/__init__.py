"""Starts and stops the real local stack: Kubernetes control plane, Kafka, PostgreSQL, Redis."""
