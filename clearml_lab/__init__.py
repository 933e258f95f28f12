"""clearml_lab: deploy the ClearML server on OpenShift, one checked step at a time."""

__version__ = "0.1.0"
