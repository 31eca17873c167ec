"""Deliver: the Athena workgroups the personas query in, and the optional warehouse."""
