"""System checks: configuration mistakes reported at ``manage.py check``, not at first upload."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


def _configured_storages() -> list[tuple[str, dict[str, Any]]]:
    from django.core.files.storage import storages

    backends: dict[str, dict[str, Any]] = storages.backends  # type: ignore[assignment]
    return [(alias, dict(params)) for alias, params in backends.items()]


#: The option behind an exception boto3 raises while building a client or a request.
_CAUSES = {
    "ProfileNotFound": "session_profile",
    "UnsupportedSignatureVersionError": "signature_version / client_config",
    "InvalidRegionError": "region_name / client_config",
    "ParamValidationError": "bucket_name",
}


#: The botocore data loader of every session the check makes (see :func:`_check_loader`).
_loader: Any = None


def _check_loader() -> Any:
    """One botocore data loader for all the sessions the check makes and throws away, so
    S3's service model is read and parsed once per process, not once per storage checked
    (which costs more than the rest of the check)."""
    global _loader
    if _loader is None:
        import botocore.session

        _loader = botocore.session.get_session().get_component("data_loader")
    return _loader


def _build_client(storage: Any) -> None:
    """Make the boto3 client ``storage`` would make, and presign one URL with it.

    Neither does any network I/O: keys stand in for the credentials when none are set, so
    boto3's credential chain (which may ask an instance-metadata endpoint) is not run. What
    boto3 refuses only when it builds a client or a request (a missing ``session_profile``,
    a ``client_config`` it cannot merge, an endpoint or bucket name its rules reject) is
    refused here instead of at the first upload.
    """
    from buckets.storage import clients

    s = storage.settings
    # ProfileNotFound for a missing session_profile
    session = clients.new_session(s, loader=_check_loader())
    client = clients.new_client(
        session,
        s,
        aws_access_key_id=s.access_key or "buckets-check",
        aws_secret_access_key=s.secret_key or "buckets-check",
        aws_session_token=s.security_token,
    )
    # S3 Express directory buckets sign with a session fetched from the bucket: no probe.
    if not s.bucket_name.endswith("--x-s3"):
        client.generate_presigned_url(
            "get_object", Params={"Bucket": s.bucket_name, "Key": "k"}, ExpiresIn=60
        )


@checks.register(checks.Tags.compatibility)
def check_storage_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every configured storage with a ``check_settings()`` method must resolve its settings
    cleanly (``S3Storage``, ``FakeS3Storage`` and their subclasses, or a project's own);
    an ``S3Storage`` must also be able to build its boto3 client from them."""
    from buckets.storage import S3Storage

    errors: list[checks.CheckMessage] = []
    for alias, params in _configured_storages():
        try:
            backend = import_string(params.get("BACKEND", ""))
        except ImportError:
            continue  # Django reports unknown backends itself, on use.
        if not callable(getattr(backend, "check_settings", None)):
            continue
        problem = None
        try:
            storage = backend(**params.get("OPTIONS", {}))
            storage.check_settings()
        except ImproperlyConfigured as exc:
            problem = str(exc)
        except Exception as exc:  # noqa: BLE001 -- every failure is the configuration's
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if isinstance(storage, S3Storage):
                try:
                    _build_client(storage)
                except Exception as exc:  # noqa: BLE001 -- boto3 raises many kinds
                    cause = _CAUSES.get(type(exc).__name__)
                    error = f"{type(exc).__name__}: {exc}"
                    if cause:
                        problem = _(
                            "boto3 cannot build an S3 client from these settings "
                            "(check %(cause)s): %(error)s"
                        ) % {"cause": cause, "error": error}
                    else:
                        problem = _(
                            "boto3 cannot build an S3 client from these settings: %(error)s"
                        ) % {"error": error}
        if problem is not None:
            errors.append(
                checks.Error(
                    f"STORAGES[{alias!r}] ({params.get('BACKEND')}): {problem}",
                    hint=_("See the AWS setting and storage options in django-buckets' README."),
                    id="buckets.E001",
                )
            )
    return errors
