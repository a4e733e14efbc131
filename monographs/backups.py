"""
Backups of the whole database, history tables included.

SQLite is copied with its online backup API, which is safe while the site
runs; PostgreSQL with pg_dump's custom format, restored with pg_restore.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

from monographs.caching import stamp_reset


class BackupError(Exception):
    pass


def _postgres_environment(settings):
    environment = {**os.environ}
    for key, variable in [
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ]:
        if settings.get(key):
            environment[variable] = str(settings[key])
    return environment


def _run(command, settings):
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client).")
    result = subprocess.run(
        command, env=_postgres_environment(settings), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def backup(path, *, using=connection):
    """Write a consistent copy of the database to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = using.settings_dict
    if using.vendor == "sqlite":
        using.ensure_connection()
        target = sqlite3.connect(path)
        try:
            using.connection.backup(target)
        finally:
            target.close()
    elif using.vendor == "postgresql":
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                f"--file={path}",
                settings["NAME"],
            ],
            settings,
        )
    else:
        raise BackupError(f"Backups of {using.vendor} databases are not supported.")
    return path


def restore(path, *, using=connection):
    """Replace the database's contents with the backup at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup at {path}.")
    settings = using.settings_dict
    if using.vendor == "sqlite":
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            source.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not an SQLite backup: {error}") from None
        using.ensure_connection()
        try:
            source.backup(using.connection)
        finally:
            source.close()
    elif using.vendor == "postgresql":
        using.close()
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={settings['NAME']}",
                str(path),
            ],
            settings,
        )
    else:
        raise BackupError(f"Restoring {using.vendor} databases is not supported.")
    # Every public page may have changed: none may be answered from before.
    stamp_reset()
