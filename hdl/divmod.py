"""Division of a small unsigned value by a constant, without a divider.

``q = (value * c) >> n`` with ``c = ceil(2**n / divisor)`` is exact for every value up to a bound
once ``n`` is large enough; the smallest such ``n`` is searched at elaboration and checked
exhaustively over the whole input range, so the circuit is one constant multiplication (a few
adders) and one subtraction.
"""

from amaranth.hdl import Const, unsigned
from amaranth.utils import ceil_log2

__all__ = ["reciprocal", "divmod_const"]


def reciprocal(divisor, max_value):
    """Smallest ``(c, n)`` with ``(v * c) >> n == v // divisor`` for every ``v`` in 0..max_value."""
    if divisor < 1:
        raise ValueError(f"divisor must be positive, not {divisor!r}")
    for n in range(64):
        c = -(-(1 << n) // divisor)
        if all((v * c) >> n == v // divisor for v in range(max_value + 1)):
            return c, n
    raise ValueError(f"no reciprocal found for {divisor} up to {max_value}")  # pragma: no cover


def divmod_const(value, divisor, max_value):
    """``(value // divisor, value % divisor)`` as expressions, for ``0 <= value <= max_value``."""
    if divisor == 1:
        return value, Const(0, 1)
    q_shape = unsigned(max(1, ceil_log2(max_value // divisor + 1)))
    r_shape = unsigned(max(1, ceil_log2(divisor)))
    if divisor & (divisor - 1) == 0:
        shift = divisor.bit_length() - 1
        return (value >> shift).as_unsigned(), value[:shift]
    c, n = reciprocal(divisor, max_value)
    q = ((value * c) >> n)[:q_shape.width]
    r = (value - q * divisor)[:r_shape.width]
    return q, r
