"""Monitor: the dashboard, and the alarms on pipelines, shared parts and security events."""
