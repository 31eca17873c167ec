"""Orchestrate: each dataset's pipeline, what starts it, and the alerts it raises."""
