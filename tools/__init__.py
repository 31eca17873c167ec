"""Tools: generators that read the synthesized app (its templates, or the built ``Blueprint``)
and write docs and figures from it: the pictures, the alarm tables, the cost tables; and what
the scale benchmark reuses: generated dataset declarations, and a synth measured stack by stack.

They stand above the app: they may import ``blueprint``, ``stacks``, ``cdk_constructs`` and
``model``, and nothing in the app imports them (``lint-imports`` checks both).
"""
