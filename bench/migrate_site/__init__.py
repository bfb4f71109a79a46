"""A one-model Django site for ``bench.bench_migrate``: files kept by a ``FileField`` under
``BENCH_MEDIA_ROOT``, rows in ``BENCH_DB``, and the bucket (``BENCH_BUCKET`` on the RGW named
by ``RGW_ENDPOINT``) as the ``bucket`` storage. Settings are ``bench.migrate_site.settings``."""
