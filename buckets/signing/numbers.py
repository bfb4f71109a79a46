"""Decimal numbers from clients (a ``Range`` position, ``X-Amz-Expires``, a policy's size
bound), read within the largest value their format gives them.

``int()`` of a client's digits is not safe as it is: past 4,300 digits Python refuses the
conversion (``ValueError``, its int-string limit) and below that its cost grows with the
square of the length. Every number in these formats has a largest meaningful value, so a
longer one is read as "larger than that" and never converted: the caller refuses or clamps
it as it would any other value above its limit.
"""

from __future__ import annotations

__all__ = ["MAX_BYTE_POSITION", "read_decimal"]

#: The largest byte position or count: a signed 64-bit integer, as S3 servers read them
#: (S3's largest object, 5 TiB, is far below it).
MAX_BYTE_POSITION = 2**63 - 1


def read_decimal(text: str, largest: int) -> int | None:
    """The value of ``text`` (ASCII digits, leading zeros allowed) when at most ``largest``;
    ``largest + 1`` for any larger value; None when ``text`` is not a decimal number.

    Costs at most the length of ``text`` plus one conversion of ``largest``'s digit count.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    if len(digits) > len(str(largest)):
        return largest + 1
    return min(int(digits or "0"), largest + 1)
