"""Process: the Glue jobs that curate raw data and build the marts, with their quality rules."""
