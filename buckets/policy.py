"""S3 browser-upload (POST) policies, in both directions.

:func:`build_post_policy` is what the real side signs; :func:`verify_post` is
what the local fake S3 checks, with the same rules S3 applies, so a policy the
fake accepts is one S3 accepts and a form S3 refuses is refused here with S3's
error code and HTTP status. Pure functions: the clock (``now``) and the secret
lookup are passed in.

S3's rules, as implemented (AWS "POST Policy" and "Browser-based uploads"):

* The policy is base64 of a JSON object with ``expiration`` (ISO 8601, UTC,
  ``Z``) and ``conditions``; its SigV4 signature is the hex HMAC of the base64
  text (see :mod:`buckets.signing`).
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
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from . import signing

DEFAULT_EXPIRES = 600
S3_MAX_POST_SIZE = 5 * 1024**3  # S3 refuses a single POST/PUT above 5 GiB.
EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EXEMPT_FIELDS = frozenset({"file", "policy", "x-amz-signature"})
SUCCESS_STATUSES = frozenset({"200", "201", "204"})

_EXPIRATION_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z\Z")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+\Z")


class PolicyError(ValueError):
    """The caller asked for a policy that cannot or must not be built."""


def _utc(now: datetime.datetime | None) -> datetime.datetime:
    """The current time, or ``now`` with a naive value taken as UTC."""
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    return now if now.tzinfo is not None else now.replace(tzinfo=datetime.timezone.utc)


def content_type_allowed(content_type: str, accept: Iterable[str]) -> bool:
    """Whether a declared Content-Type matches one of the accepted patterns.

    Patterns are MIME types (``application/pdf``), ``type/*`` wildcards or
    ``*``/``*/*``. Matching ignores case and parameters (``; charset=...``),
    as MIME types are case-insensitive.
    """
    essence = content_type.split(";", 1)[0].strip().lower()
    if "/" not in essence:
        return False
    for pattern in (p.strip().lower() for p in accept):
        if pattern in ("*", "*/*", essence):
            return True
        if pattern.endswith("/*") and essence.startswith(pattern[:-1]):
            return True
    return False


def _content_type_condition(
    content_type: str | None, accept: Iterable[str] | None
) -> tuple[list[str] | None, str | None]:
    """Choose the Content-Type condition and the value to put in the form.

    A policy cannot OR conditions, so a list of accepted types is enforced by
    checking the type the client declares against the list here and pinning
    it with ``eq``. Without a declared type, a single accepted pattern can
    still be expressed (``eq`` for an exact type, ``starts-with`` for
    ``type/*``, in which case the client must add a ``Content-Type`` field);
    several need a declared type.
    """
    patterns = [p.strip() for p in accept or () if p.strip()]
    if any(p in ("*", "*/*") for p in patterns):
        patterns = []
    if content_type is not None:
        if not content_type or not _PRINTABLE_ASCII.match(content_type):
            raise PolicyError(f"Invalid content type: {content_type!r}")
        if patterns and not content_type_allowed(content_type, patterns):
            raise PolicyError(f"Content type {content_type!r} is not accepted")
        return ["eq", "$Content-Type", content_type], content_type
    if not patterns:
        return None, None
    if len(patterns) > 1:
        raise PolicyError("A content type must be declared when several types are accepted")
    only = patterns[0]
    if only.endswith("/*"):
        return ["starts-with", "$Content-Type", only[:-1]], None
    return ["eq", "$Content-Type", only], only


def build_post_policy(
    *,
    bucket: str,
    key: str,
    access_key: str,
    secret_key: str,
    region: str,
    max_size: int = S3_MAX_POST_SIZE,
    min_size: int = 0,
    token: str | None = None,
    content_type: str | None = None,
    accept: Iterable[str] | None = None,
    success_action_status: int | str | None = None,
    expires: int = DEFAULT_EXPIRES,
    now: datetime.datetime | None = None,
    service: str = "s3",
) -> tuple[dict[str, str], dict]:
    """Build and sign a POST policy that pins one upload.

    Returns ``(fields, policy_document)``: ``fields`` is exactly what the
    client posts before the file (``key``, ``Content-Type`` when pinned,
    ``success_action_status`` when set, the ``x-amz-*`` fields, ``policy``,
    ``x-amz-signature``). The key is pinned with ``eq``, the size with
    ``content-length-range`` (inclusive), the type as
    :func:`_content_type_condition` explains. Raises :class:`PolicyError` for
    a request that must not be signed (a declared type outside ``accept``...).
    """
    if not key:
        raise PolicyError("The key must not be empty")
    if "${filename}" in key:
        raise PolicyError("The key must not contain ${filename}: S3 would substitute it")
    if len(key.encode("utf-8")) > 1024:
        raise PolicyError("S3 keys are at most 1024 bytes")
    if not 0 <= min_size <= max_size:
        raise PolicyError(f"Invalid size range: {min_size}..{max_size}")
    if expires <= 0:
        raise PolicyError("expires must be positive")
    status = None if success_action_status is None else str(success_action_status)
    if status is not None and status not in SUCCESS_STATUSES:
        raise PolicyError("success_action_status must be 200, 201 or 204")

    now = _utc(now)
    stamp = signing.amz_date(now)
    date_stamp = stamp[:8]
    cred = signing.credential(access_key, date_stamp, region, service)
    expiration = now.astimezone(datetime.timezone.utc) + datetime.timedelta(seconds=expires)

    fields: dict[str, str] = {"key": key}
    conditions: list = [
        {"bucket": bucket},
        ["eq", "$key", key],
        ["content-length-range", int(min_size), int(max_size)],
    ]
    ct_condition, ct_value = _content_type_condition(content_type, accept)
    if ct_condition is not None:
        conditions.append(ct_condition)
    if ct_value is not None:
        fields["Content-Type"] = ct_value
    if status is not None:
        conditions.append({"success_action_status": status})
        fields["success_action_status"] = status
    auth = {"x-amz-algorithm": signing.ALGORITHM, "x-amz-credential": cred, "x-amz-date": stamp}
    if token is not None:
        auth["x-amz-security-token"] = token
    for name, value in auth.items():
        conditions.append({name: value})
        fields[name] = value

    document = {"expiration": expiration.strftime(EXPIRATION_FORMAT), "conditions": conditions}
    policy_b64 = base64.b64encode(
        json.dumps(document, separators=(",", ":")).encode("utf-8")
    ).decode("ascii")
    fields["policy"] = policy_b64
    fields["x-amz-signature"] = signing.sign_policy(
        policy_b64, secret_key, date_stamp, region, service
    )
    return fields, document


@dataclass(frozen=True)
class PostError:
    """An S3 error answer: ``<Error><Code>`` and the HTTP status to send."""

    code: str
    status: int
    message: str
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. MaxSizeAllowed

    @property
    def ok(self) -> bool:
        return False


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


_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
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
    """A content-length-range bound: a non-negative integer, or its digits."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _text(condition: object) -> str:
    return json.dumps(condition, ensure_ascii=False)


# A parsed condition: (operator, lower-cased field name, operand, as written).
_Condition = tuple[str, str, str, object]


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
    """Check a browser-upload form the way S3 does; for the local fake S3.

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
    form: dict[str, str] = {}
    for name, value in fields.items():
        lname = name.lower()
        if lname == "file":
            continue
        if lname in form:
            return PostError("InvalidArgument", 400, f"Duplicate form field: {name}")
        form[lname] = value

    if "key" not in form:
        return _missing("key")
    if not form.get("policy"):
        return PostError("AccessDenied", 403, "Access Denied")
    for required in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
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
        message = "The AWS Access Key Id you provided does not exist in our records."
        return PostError("InvalidAccessKeyId", 403, message, {"AWSAccessKeyId": access_key})
    policy_b64 = form["policy"]
    signature = form["x-amz-signature"]
    if not signing.verify_policy_signature(
        policy_b64, signature, secret, date_stamp, cred_region, service
    ):
        return PostError("SignatureDoesNotMatch", 403, _SIGNATURE_MISMATCH)

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

    now = _utc(now)
    if now > expiration:
        return _denied("Policy expired.")

    key = form["key"]
    if filename is not None:
        key = key.replace("${filename}", filename)
    if not key:
        return _argument("key", "User key must have a length greater than 0.")
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

    status = form.get("success_action_status")
    verified = VerifiedPost(key, access_key, form, min_size, max_size, status)
    error = None if file_size is None else verified.check_size(file_size)
    return verified if error is None else error
