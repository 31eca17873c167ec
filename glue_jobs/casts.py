"""A value's form and its cast to a declared type: text in, a typed value or null out.

``transforms.type_and_check`` quarantines a value whose form is wrong or whose cast gives
null; nothing here rounds or guesses. Spark's lenient casts would otherwise turn "2.5" into
the int 2, round "12.345" into a decimal(12,2), read "2026" as a timestamp, or accept "NaN"
as a double, so each value must look right before it is cast.

``float_integers`` (a source option, off by default) lets an int or bigint column take a
whole number written as a float (``517.0``, ``517.00``, ``5.17e2``): it is rewritten as the
digits of the same number (``517``) and cast from those, so ``517.5`` is still no int. The
rewrite is exact, on the text (no floating point), so no value is changed by it.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_INTEGER = r"^[+-]?[0-9]+$"
_NUMBER = r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
_BOOLEAN = r"^(?i)(true|false|1|0|yes|no)$"
# A float's parts: sign, whole digits, fraction digits, exponent (at most 4 digits: a larger
# one cannot be a bigint, and it would not fit the int the shift is computed in).
_FLOAT = r"^([+-]?)([0-9]*)(?:[.]([0-9]*))?(?:[eE]([+-]?[0-9]{1,4}))?$"
_INTEGER_TYPES = ("int", "bigint")
# More digits than a bigint has: such a "whole number" is not written out, it is uncastable.
_MAX_SHIFT = 19


def col(name: str) -> Column:
    """A column by name, even one with a dot or a space in it (JSON keys can have both)."""
    return F.col(f"`{name}`")


def whole_number_text(text: Column) -> Column:
    """The digits of a whole number written as a float (``"5.17e2"`` -> ``"517"``), or null
    when the text is no number or not a whole one (``"517.5"``). Exact: text only.

    The number is ``<whole><fraction> x 10^(exponent - len(fraction))``; the digits' trailing
    zeros move into that power, and the number is whole when the power is not negative.
    """
    part = [F.regexp_extract(text, _FLOAT, i) for i in range(1, 5)]
    sign, whole, fraction, exponent = part
    digits = F.concat(whole, fraction)
    significant = F.regexp_replace(digits, "0+$", "")
    shift = (
        F.coalesce(F.when(exponent != "", exponent.cast("int")), F.lit(0))
        - F.length(fraction)
        + F.length(digits)
        - F.length(significant)
    )
    zeros = F.call_function("repeat", F.lit("0"), F.greatest(shift, F.lit(0)))
    written = F.concat(sign, significant, zeros)
    number = text.rlike(_NUMBER) & text.rlike(_FLOAT)
    return (
        F.when(~number, F.lit(None).cast("string"))
        .when(significant == "", F.lit("0"))
        .when((shift >= 0) & (shift <= _MAX_SHIFT), written)
    )


def well_formed(name: str, type_: str, *, float_integers: bool = False) -> Column:
    """Whether the text of column ``name`` has the form of a ``type_`` value."""
    text = col(name)
    if type_ in _INTEGER_TYPES:
        if float_integers:
            return whole_number_text(text).isNotNull()
        return text.rlike(_INTEGER)
    if type_ == "double":
        return text.rlike(_NUMBER)
    if type_.startswith("decimal("):
        precision, scale = (int(x) for x in type_[len("decimal(") : -1].split(","))
        whole = precision - scale
        fraction = f"([.][0-9]{{0,{scale}}})?" if scale else ""
        return text.rlike(f"^[+-]?[0-9]{{1,{whole}}}{fraction}$")
    if type_ == "date":
        return text.rlike(_DATE)
    if type_ == "timestamp":
        return text.rlike(_TIMESTAMP)
    if type_ == "boolean":
        return text.rlike(_BOOLEAN)
    return F.lit(True)


def typed(name: str, type_: str, *, float_integers: bool = False) -> Column:
    """The text of column ``name`` cast to ``type_`` (null when it does not cast)."""
    text = col(name)
    if type_ in _INTEGER_TYPES and float_integers:
        return whole_number_text(text).cast(type_)
    if type_ == "timestamp":
        return F.to_timestamp(text)
    if type_ == "boolean":
        lowered = F.lower(text)
        return (
            F.when(lowered.isin("true", "1", "yes"), True)
            .when(lowered.isin("false", "0", "no"), False)
            .otherwise(None)
        )
    return text.cast(type_)
