"""The rules a direct upload is held to before it is signed: how long a client string may
be before it is looked into.

Each rule is defined here once; the signed-URL view, the form and model fields, the widget
and the pytest plugin call these functions rather than restating them.
"""

from __future__ import annotations

from buckets.storage.keys import MAX_KEY_BYTES

__all__ = ["MAX_INPUT_LENGTH"]

#: Longest client string (a file name, a field token, a staging name) the uploads side looks
#: into, in characters: a longer one is refused before it is cleaned, normalised or matched,
#: as the cost of Unicode normalisation grows faster than the length of its input. Nothing
#: valid is longer: no S3 key is, and no token made here.
MAX_INPUT_LENGTH = MAX_KEY_BYTES
