"""The package version, the single source of it.

``pyproject.toml`` reads it at build time (``[tool.setuptools.dynamic]``)
without importing the package, so this module imports nothing.
"""
__version__ = '0.1.0'
