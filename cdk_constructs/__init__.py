"""Reusable constructs of the blueprint, one sub-package per stage of the workflow.

``common`` is the floor every stage stands on; ``governance`` (LF-Tags, grants, persona roles)
is used by the stages whose resources it governs; the stages themselves use neither each other
nor anything above them (import contracts in pyproject.toml hold this).

The package is not called ``constructs``: that name would shadow the ``constructs`` library that
aws-cdk-lib imports (``No module named 'constructs._jsii'``).
"""
