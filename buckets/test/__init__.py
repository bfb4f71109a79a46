"""A local stand-in for S3 for development and tests: no AWS account needed."""
