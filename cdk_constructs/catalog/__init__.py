"""Catalog: each dataset's raw crawler and its declared curated and mart tables."""
