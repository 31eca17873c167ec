"""The lowest floor: environment configuration, dataset declarations and the lake's vocabulary.

Plain Python with no CDK in it (an import contract in pyproject.toml holds this): every floor
above reads it, and it reads none of them.
"""
