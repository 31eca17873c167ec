"""Govern and secure: Lake Formation settings, tags, locations and grants, persona roles and
the audit trail. Stages use it (tables carry LF-Tags), it uses none of them."""
