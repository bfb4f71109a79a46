"""The part plan of a multipart upload: fixed by the declared size alone.

``part size = max(5 MiB, ceil(size / 10,000))``; every part has that size but the last,
which holds the remainder. This is S3's rule (parts of at least 5 MiB but the last, at most
10,000 parts) at its smallest, and what ``@uppy/aws-s3`` 4.x cuts a file into by default,
so an Uppy client's parts match the plan the server signs and checks.

Pure: no Django, no boto3 (S3's limits from :mod:`buckets.signing.limits`). The server
derives the plan again on every call from the size bound into the upload's session token,
so a client never states a part's length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from buckets.signing.limits import MAX_OBJECT_SIZE, MAX_PARTS, MIN_PART_SIZE

__all__ = ["PartPlan", "plan_parts"]


@dataclasses.dataclass(frozen=True)
class PartPlan:
    """The parts an upload of ``size`` bytes is cut into."""

    size: int
    part_size: int
    part_count: int

    def part_length(self, number: int) -> int:
        """The exact length of part ``number`` (1-based); ``ValueError`` outside the plan."""
        if not isinstance(number, int) or isinstance(number, bool):
            raise ValueError("A part number is an integer.")
        if not 1 <= number <= self.part_count:
            raise ValueError(f"Part {number} is not in the plan (1 to {self.part_count}).")
        if number < self.part_count:
            return self.part_size
        return self.size - self.part_size * (self.part_count - 1)

    def lengths(self) -> Iterator[tuple[int, int]]:
        """``(number, length)`` of every part, in order."""
        for number in range(1, self.part_count + 1):
            yield number, self.part_length(number)


def plan_parts(size: int) -> PartPlan:
    """The plan for ``size`` bytes (1 to :data:`MAX_OBJECT_SIZE`); ``ValueError``
    for any other size. A site's own limit (a field's ``max_size``, ``MAX_FILE_SIZE``) is
    the caller's to check first."""
    if not isinstance(size, int) or isinstance(size, bool):
        raise ValueError("A size is an integer number of bytes.")
    if not 1 <= size <= MAX_OBJECT_SIZE:
        raise ValueError(f"A multipart upload has 1 to {MAX_OBJECT_SIZE} bytes, not {size}.")
    part_size = max(MIN_PART_SIZE, -(-size // MAX_PARTS))
    return PartPlan(size=size, part_size=part_size, part_count=-(-size // part_size))
