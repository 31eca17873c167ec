"""Tools: generators that read the synthesized app (its templates, or the built ``Blueprint``)
and write docs and figures from it: the pictures, the alarm tables, the cost tables.

They stand above the app: they may import ``blueprint``, ``stacks``, ``cdk_constructs`` and
``model``, and nothing in the app imports them (``lint-imports`` checks both).
"""
