"""Application wiring: configuration, the app factory and the compliance packs.

`app.py` and the tests both build the app through `blueprint.factory.build_app`, so the tests
see exactly what `cdk synth` sees.
"""
