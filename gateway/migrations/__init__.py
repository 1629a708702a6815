"""Versioned data migrations: numbered modules applied in order, once, under a lease-held lock."""

from gateway.migrations.runner import Migration, MigrationLockTimeout, apply_migrations, discover_migrations

__all__ = ["Migration", "MigrationLockTimeout", "apply_migrations", "discover_migrations"]
