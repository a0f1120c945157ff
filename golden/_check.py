"""Argument checks shared by the golden model; messages read "X must be ..., not {value!r}"."""

import numbers

import numpy as np

__all__ = ["check_int", "check_choice", "as_array", "is_integer_array"]


def check_int(name, value, *, minimum=None, choices=None):
    """Return ``value`` as a Python int, or raise naming ``name`` and the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    value = int(value)
    if choices is not None and value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value!r}")
    return value


def check_choice(name, value, choices):
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
    return value


def as_array(name, value):
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like, not {value!r}") from exc
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must hold numbers, not {array.dtype}")
    return array


def is_integer_array(array):
    return np.issubdtype(array.dtype, np.integer) or array.dtype == bool
