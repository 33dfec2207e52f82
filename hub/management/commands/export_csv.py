"""`manage.py export_csv contacts|accounts [FILE]`: the same columns import_csv reads."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from hub.imports import KINDS, export_csv


class Command(BaseCommand):
    help = "Export contacts or accounts as CSV (re-importable with import_csv)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", nargs="?", default="-", help="output file; - is stdout")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["file"] == "-":
            count = export_csv(opts["kind"], sys.stdout)
        else:
            with open(opts["file"], "w", newline="", encoding="utf-8") as out:
                count = export_csv(opts["kind"], out)
        self.stderr.write(f"{count} {opts['kind']} exported")
