"""Store: the lake's buckets, their settings, and the audit log store."""
