"""Operations: HTTP hardening, injection defences, observability, migrations, backups and deployment."""
