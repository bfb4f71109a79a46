"""Kept at the top level for tools that still call it; metadata lives in pyproject.toml."""

from setuptools import setup

setup()
