"""Reading one table of settings from a file, so every wrong value is reported the same way.

cdk.json's environments and the dataset declarations are both read through ``Fields``: a
value that is missing, of the wrong kind or unknown fails with one message naming the file,
the key's path, the value and what is expected::

    datasets/orders.toml: columns[4].type = 'money': expected one of string, int, ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

MISSING = "<missing>"


class Fields:
    """One table (a TOML table, a JSON object) of ``file`` at ``where``, read key by key.

    Each key read is remembered, so ``reject_unknown`` can name a misspelt one.

    :param error: the exception raised, a ``ValueError`` (ConfigError, DatasetError).
    :param expected_table: what ``data`` must be when it is not a table.
    """

    def __init__(
        self,
        data: Any,
        file: str,
        where: str,
        *,
        error: type[ValueError],
        expected_table: str = "a table",
    ) -> None:
        self.file, self.where, self.error = file, where, error
        if not isinstance(data, Mapping):
            raise error(f"{file}: {where or 'the file'} = {data!r}: expected {expected_table}")
        self.data = data
        self._read: set[str] = set()
        self._expected_table = expected_table

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, expected: str, value: Any = None) -> ValueError:
        """The error for key ``name`` (its value as read, unless ``value`` is given)."""
        shown = self.data.get(name, MISSING) if value is None else value
        return self.error(f"{self.file}: {self.key(name)} = {shown!r}: expected {expected}")

    def get(self, name: str, default: Any = ...) -> Any:
        """The value of ``name``; without a default, the key is required."""
        self._read.add(name)
        if name not in self.data:
            if default is ...:
                raise self.fail(name, "a value (the field is required)")
            return default
        return self.data[name]

    def table(self, name: str, default: Any = ...) -> Fields:
        """The table under ``name``, to read in turn."""
        return Fields(
            self.get(name, default),
            self.file,
            self.key(name),
            error=self.error,
            expected_table=self._expected_table,
        )

    def text(
        self,
        name: str,
        default: Any = ...,
        valid: Callable[[str], object] | None = None,
        expected: str = "a non-empty string",
    ) -> str:
        value = self.get(name, default)
        if not isinstance(value, str) or not value.strip() or (valid and not valid(value)):
            raise self.fail(name, expected)
        return value

    def optional_text(self, name: str, valid: Callable[[str], object], expected: str) -> Any:
        """Like ``text``, but absent or null gives None."""
        if self.get(name, None) is None:
            return None
        return self.text(name, valid=valid, expected=expected)

    def choice(self, name: str, options: Iterable[str], default: Any = ...) -> str:
        options = tuple(options)
        value = self.get(name, default)
        if value not in options:
            raise self.fail(name, f"one of {', '.join(options)}")
        return str(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "true or false")
        return value

    def integer(
        self,
        name: str,
        default: int,
        *,
        low: int = 1,
        high: int | None = None,
        expected: str | None = None,
    ) -> int:
        """A whole number from ``low`` to ``high`` (no upper bound without one)."""
        value = self.get(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            raise self.fail(name, expected or f"a whole number, at least {low}")
        return value

    def names(self, name: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(name, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, "a list of strings")
        if len(set(value)) != len(value):
            raise self.fail(name, "a list without repeats")
        return tuple(value)

    def strings(self, name: str, valid: Callable[[str], object], expected: str) -> tuple[str, ...]:
        """A list of strings, each ``valid`` (an empty list when absent)."""
        value = self.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and valid(v) for v in value):
            raise self.fail(name, expected)
        return tuple(value)

    def reject_unknown(self, what: str = "field") -> None:
        """Fail on the first key that was never read: a misspelling, or a removed setting."""
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            name = unknown[0]
            raise self.error(
                f"{self.file}: {self.key(name)} = {self.data[name]!r}: unknown {what}; "
                f"expected one of {', '.join(sorted(self._read))}"
            )
