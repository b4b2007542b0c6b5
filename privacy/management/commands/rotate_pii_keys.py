"""Re-encrypt every encrypted column with the first of PII_ENCRYPTION_KEYS (privacy/crypto.py)."""

from typing import Any

from django.core.management.base import BaseCommand

from privacy.crypto import rotate


class Command(BaseCommand):
    help = "Re-encrypt the encrypted personal-data columns with the newest key (run after adding a key, before dropping one)."

    def handle(self, *args: Any, **options: Any) -> None:
        for column, rows in rotate().items():
            self.stdout.write(f"{column}: {rows} rows re-encrypted")
