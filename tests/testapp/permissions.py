"""A header-authenticated API for the tests: ``Authorization: Token <token>``.

The token is the user's pk signed with ``SECRET_KEY`` (a project would look up a stored
key); the permission hook returns the user it names, so uploads signed for the client are
bound to that user although ``request.user`` (from the session) is anonymous.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core import signing
from django.http import HttpRequest

_SALT = "tests.testapp.api-token"


def api_token(user: User) -> str:
    return signing.dumps(user.pk, salt=_SALT)


def token_user(request: HttpRequest, field: Any) -> Any:
    """``BUCKETS_UPLOAD_PERMISSION`` for token clients: the token's active user, or False."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Token" or not token:
        return False
    try:
        pk = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return False
    return User.objects.filter(pk=pk, is_active=True).first() or False
