#!/usr/bin/env python3
"""Entry point of `cdk synth`: builds the app for `-c env=NAME` (default sandbox).

A configuration or dataset-declaration error is printed as one line naming the file, the key,
the value and what is expected.
"""

import sys

from blueprint.factory import build_app
from model.config import ConfigError
from model.datasets import DatasetError


def main() -> int:
    try:
        blueprint = build_app()
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 1
    except DatasetError as error:
        print(f"Dataset error: {error}", file=sys.stderr)
        return 1
    blueprint.app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
