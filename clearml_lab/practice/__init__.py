"""The practice cluster: a local OpenShift-compatible API server. It never runs containers."""
