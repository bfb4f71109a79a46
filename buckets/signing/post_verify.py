"""Checking an S3 browser-upload (POST) form the way S3 does: the other direction of
:mod:`buckets.signing.post_policy`.

:func:`verify_post` answers a form as S3 would: accepted, or refused with S3's error code
and HTTP status, so a local stand-in for S3 built on it accepts and refuses what S3 does.
Pure: the clock (``now``) and the secret lookup are passed in.

S3's rules, as implemented (AWS "POST Policy" and "Browser-based uploads"):

* The policy is base64 of a JSON object with ``expiration`` (ISO 8601, UTC,
  ``Z``) and ``conditions``; its SigV4 signature is the hex HMAC of the base64
  text (see :mod:`buckets.signing.sigv4`).
* Conditions: ``{"name": value}`` and ``["eq", "$name", value]`` match exactly
  (case-sensitive value); ``["starts-with", "$name", prefix]`` matches a
  prefix, and an empty prefix matches anything, an absent field included;
  ``["content-length-range", min, max]`` bounds the file size, inclusive.
  Field names compare case-insensitively; ``bucket`` is checked against the
  bucket posted to, not a form field.
* Every form field must be named by a condition, except ``file``, ``policy``,
  ``x-amz-signature`` and names starting with ``x-ignore-``.
* ``${filename}`` in the ``key`` field is replaced by the uploaded file's name
  before the conditions are checked.

Over 300 lines on purpose: each rule above is a small step of one check, and the steps
read in S3's order only side by side.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from buckets.signing import sigv4 as signing
from buckets.signing.numbers import MAX_BYTE_POSITION, read_decimal
from buckets.signing.s3_errors import PostError, signature_mismatch, unknown_access_key

__all__ = ["EXEMPT_FIELDS", "PostError", "VerifiedPost", "verify_post"]

EXEMPT_FIELDS = frozenset({"file", "policy", "x-amz-signature"})
#: The fields a signed form must carry, besides ``key`` and ``policy``.
_AUTH_FIELDS = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")

_EXPIRATION_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z\Z")


@dataclass(frozen=True)
class VerifiedPost:
    """A form S3 would accept (bar the file size, when not yet known)."""

    key: str
    access_key: str
    fields: Mapping[str, str]  # names lower-cased, values as posted
    min_size: int | None
    max_size: int | None
    success_action_status: str | None

    @property
    def ok(self) -> bool:
        return True

    def check_size(self, size: int) -> PostError | None:
        """S3's answer to a file of ``size`` bytes under this policy, or None."""
        proposed = str(size)
        if self.max_size is not None and size > self.max_size:
            message = "Your proposed upload exceeds the maximum allowed size"
            extra = {"ProposedSize": proposed, "MaxSizeAllowed": str(self.max_size)}
            return PostError("EntityTooLarge", 400, message, extra)
        if self.min_size is not None and size < self.min_size:
            message = "Your proposed upload is smaller than the minimum allowed size"
            extra = {"ProposedSize": proposed, "MinSizeAllowed": str(self.min_size)}
            return PostError("EntityTooSmall", 400, message, extra)
        return None


def _argument(name: str, message: str) -> PostError:
    return PostError("InvalidArgument", 400, message, {"ArgumentName": name})


def _missing(name: str) -> PostError:
    return _argument(
        name,
        f"Bucket POST must contain a field named '{name}'. "
        "If it is specified, please check the order of the fields.",
    )


def _invalid_policy(detail: str) -> PostError:
    return PostError("InvalidPolicyDocument", 400, f"Invalid Policy: {detail}")


def _denied(detail: str) -> PostError:
    return PostError("AccessDenied", 403, f"Invalid according to Policy: {detail}")


def _parse_expiration(value: object) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    m = _EXPIRATION_RE.match(value)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m.group(7) or "").ljust(6, "0")[:6])
    utc = datetime.timezone.utc
    try:
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=utc)
    except ValueError:
        return None


def _size_bound(value: object) -> int | None:
    """A content-length-range bound: a non-negative integer, or its digits (read within
    :data:`~buckets.signing.numbers.MAX_BYTE_POSITION`)."""
    if isinstance(value, str):
        return read_decimal(value, MAX_BYTE_POSITION)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _text(condition: object) -> str:
    return json.dumps(condition, ensure_ascii=False)


# A parsed condition: (operator, lower-cased field name, operand, as written).
_Condition = tuple[str, str, str, object]


@dataclass(frozen=True)
class _Policy:
    """A decoded policy whose conditions are all well-formed (none evaluated yet)."""

    expiration: datetime.datetime
    conditions: list[_Condition]
    min_size: int | None
    max_size: int | None


def _parse_conditions(raw: object) -> tuple[list[_Condition], int | None, int | None] | PostError:
    """Validate the policy's conditions before any is evaluated, as S3 does."""
    if not isinstance(raw, list):
        return _invalid_policy("Policy missing conditions.")
    parsed: list[_Condition] = []
    low: int | None = None
    high: int | None = None
    for cond in raw:
        if isinstance(cond, dict):
            if len(cond) != 1 or not isinstance(next(iter(cond.values())), str):
                return _invalid_policy(f"Invalid Simple-Condition: {_text(cond)}")
            ((name, value),) = cond.items()
            parsed.append(("eq", name.lower(), value, cond))
        elif isinstance(cond, list) and cond and isinstance(cond[0], str):
            op = cond[0]
            if op == "content-length-range":
                lo = _size_bound(cond[1]) if len(cond) == 3 else None
                hi = _size_bound(cond[2]) if len(cond) == 3 else None
                if lo is None or hi is None or lo > hi:
                    return _invalid_policy(f"Invalid content-length-range: {_text(cond)}")
                low = lo if low is None else max(low, lo)
                high = hi if high is None else min(high, hi)
            elif op in ("eq", "starts-with"):
                name = cond[1] if len(cond) == 3 and isinstance(cond[2], str) else None
                if not (isinstance(name, str) and name.startswith("$") and len(name) > 1):
                    return _invalid_policy(f"Invalid Condition: {_text(cond)}")
                parsed.append((op, cond[1][1:].lower(), cond[2], cond))
            else:
                return _invalid_policy(f"Invalid Condition: {_text(cond)}")
        else:
            return _invalid_policy(f"Invalid Condition: {_text(cond)}")
    return parsed, low, high


def _lower_case_form(fields: Mapping[str, str]) -> dict[str, str] | PostError:
    """The form's fields by lower-cased name, without the file; a name given twice (in any
    case) is S3's 400 ``InvalidArgument``."""
    form: dict[str, str] = {}
    for name, value in fields.items():
        lname = name.lower()
        if lname == "file":
            continue
        if lname in form:
            return PostError("InvalidArgument", 400, f"Duplicate form field: {name}")
        form[lname] = value
    return form


def _check_signature(
    form: Mapping[str, str],
    secret_for: Callable[[str], str | None],
    region: str | None,
    service: str,
) -> str | PostError:
    """The access key of a form whose policy is signed with its secret, or the first
    error S3 answers: a missing field, the algorithm, the credential, its region, an
    unknown access key, a wrong signature."""
    if "key" not in form:
        return _missing("key")
    if not form.get("policy"):
        return PostError("AccessDenied", 403, "Access Denied")
    for required in _AUTH_FIELDS:
        if not form.get(required):
            return _missing(required)
    if form["x-amz-algorithm"] != signing.ALGORITHM:
        return _argument("x-amz-algorithm", f"Unsupported algorithm: {form['x-amz-algorithm']}")
    scope = signing.parse_credential(form["x-amz-credential"])
    if scope is None or scope[3] != service:
        return _argument("x-amz-credential", f"Invalid credential: {form['x-amz-credential']}")
    access_key, date_stamp, cred_region, _ = scope
    if region is not None and cred_region != region:
        message = f"The region '{cred_region}' is wrong; expecting '{region}'"
        return PostError("AuthorizationHeaderMalformed", 400, message, {"Region": region})
    secret = secret_for(access_key)
    if secret is None:
        return unknown_access_key(access_key)
    if not signing.verify_policy_signature(
        form["policy"], form["x-amz-signature"], secret, date_stamp, cred_region, service
    ):
        return signature_mismatch()
    return access_key


def _read_policy(policy_b64: str) -> _Policy | PostError:
    """The signed policy decoded, or S3's 400 ``InvalidPolicyDocument`` saying why not."""
    try:
        raw = base64.b64decode("".join(policy_b64.split()), validate=True)
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        return _invalid_policy("Invalid JSON.")
    if not isinstance(document, dict):
        return _invalid_policy("Invalid JSON.")
    if "expiration" not in document:
        return _invalid_policy("Policy missing expiration.")
    expiration = _parse_expiration(document["expiration"])
    if expiration is None:
        return _invalid_policy(f"Invalid 'expiration' value: '{document['expiration']}'")
    parsed = _parse_conditions(document.get("conditions"))
    if isinstance(parsed, PostError):
        return parsed
    conditions, min_size, max_size = parsed
    return _Policy(expiration, conditions, min_size, max_size)


def _check_conditions(
    form: Mapping[str, str], key: str, bucket: str, conditions: list[_Condition]
) -> PostError | None:
    """S3's 403 ``AccessDenied`` for the first failed condition or, every one passing, for
    the first field no condition names; None when the form keeps to the policy."""
    actual = dict(form, key=key, bucket=bucket)
    covered = set()
    for op, name, operand, original in conditions:
        covered.add(name)
        value = actual.get(name, "")
        passed = value == operand if op == "eq" else value.startswith(operand)
        if not passed:
            return _denied(f"Policy Condition failed: {_text(original)}")
    for name in form:
        if name in EXEMPT_FIELDS or name.startswith("x-ignore-") or name in covered:
            continue
        return _denied(f"Extra input fields: {name}")
    return None


def verify_post(
    fields: Mapping[str, str],
    *,
    bucket: str,
    secret_for: Callable[[str], str | None],
    file_size: int | None = None,
    now: datetime.datetime | None = None,
    region: str | None = None,
    service: str = "s3",
    filename: str | None = None,
) -> VerifiedPost | PostError:
    """Check a browser-upload form the way S3 does.

    ``fields`` are the form fields posted before the file (the file part
    itself, if present under ``file``, is ignored). ``secret_for`` maps an
    access key to its secret, or None when unknown. ``region``, when given, is
    the region the fake serves; a credential for another is refused.
    ``file_size`` may be left out to check the form before the file is
    stored, then checked with :meth:`VerifiedPost.check_size`. ``filename``
    replaces ``${filename}`` in the key.

    Returns a :class:`VerifiedPost` or the first :class:`PostError` S3 would
    answer: 400 ``InvalidArgument`` for a missing field, 403 ``AccessDenied``
    without a policy, 403 ``InvalidAccessKeyId``, 403 ``SignatureDoesNotMatch``,
    400 ``InvalidPolicyDocument``, 403 ``AccessDenied`` for an expired policy,
    a failed condition or a field no condition names, then 400
    ``EntityTooLarge``/``EntityTooSmall``.
    """
    form = _lower_case_form(fields)
    if isinstance(form, PostError):
        return form
    access_key = _check_signature(form, secret_for, region, service)
    if isinstance(access_key, PostError):
        return access_key
    policy = _read_policy(form["policy"])
    if isinstance(policy, PostError):
        return policy
    if signing.utc(now) > policy.expiration:
        return _denied("Policy expired.")

    key = form["key"]
    if filename is not None:
        key = key.replace("${filename}", filename)
    if not key:
        return _argument("key", "User key must have a length greater than 0.")
    refused = _check_conditions(form, key, bucket, policy.conditions)
    if refused is not None:
        return refused

    status = form.get("success_action_status")
    verified = VerifiedPost(key, access_key, form, policy.min_size, policy.max_size, status)
    error = None if file_size is None else verified.check_size(file_size)
    return verified if error is None else error
