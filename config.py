"""The configuration of Relais lives in ``app.settings``; this shim keeps the name the design
uses (``config.py``) for scripts and tools that import it."""

from app.settings import (
    CONFIGS,
    SECRET_NAMES,
    Config,
    ConfigError,
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
    as_mapping,
    config_from_environment,
)

__all__ = [
    "CONFIGS",
    "SECRET_NAMES",
    "Config",
    "ConfigError",
    "DevelopmentConfig",
    "ProductionConfig",
    "TestingConfig",
    "as_mapping",
    "config_from_environment",
]
