"""Reusable constructs of the blueprint.

The package is not called ``constructs``: that name would shadow the ``constructs`` library that
aws-cdk-lib imports (``No module named 'constructs._jsii'``).
"""
