"""Benchmarks for django-buckets against a real (throw-away) Ceph RGW on 127.0.0.1.

``python -m bench`` runs them all on one RGW; each also runs alone
(``python -m bench.bench_url``, ``python -m bench.bench_transfer --size 256M``).
"""
