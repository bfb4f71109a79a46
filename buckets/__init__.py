"""Django storage on S3 and S3-compatible stores, with direct browser uploads."""

__version__ = "0.1.0.dev0"
