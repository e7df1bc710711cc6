"""The health agent: background polling of the node and references, health and metrics."""
