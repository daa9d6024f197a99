"""MaritimeIQ core: configuration, lake layout, Spark sessions and the local stack."""

__version__ = "0.1.0"
