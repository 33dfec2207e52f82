"""`manage.py import_csv contacts|accounts FILE`: CSV import with a dry-run preview."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hub.imports import KINDS, CsvImportError, run_import
from hub.models import User


class Command(BaseCommand):
    help = "Import contacts or accounts from a CSV file exported by another CRM."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file", help="CSV file (UTF-8); - reads standard input")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="map a field to a column header (repeatable); FIELD= unmaps it",
        )
        parser.add_argument("--dry-run", action="store_true", help="preview, write nothing")
        parser.add_argument(
            "--partial",
            action="store_true",
            help="import the good rows even if some are bad (default: all or nothing)",
        )
        parser.add_argument("--by", help="e-mail of the user the audit log names")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        mapping = {}
        for item in opts["map"]:
            name, sep, header = item.partition("=")
            if not sep:
                raise CommandError(f"--map {item!r}: expected FIELD=COLUMN")
            mapping[name.strip()] = header.strip()
        by = None
        if opts["by"]:
            by = User.objects.filter(email__iexact=opts["by"]).first()
            if by is None:
                raise CommandError(f"no user {opts['by']}")
        try:
            if opts["file"] == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(opts["file"], "rb") as handle:
                    data = handle.read()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        total = max(data.count(b"\n") - 1, 1)

        def progress(done: int) -> None:
            if done % 500 == 0 or done == total:
                self.stderr.write(f"\r{done}/{total} rows ({100 * done // total}%)", ending="")
                self.stderr.flush()

        try:
            report = run_import(
                opts["kind"],
                data,
                mapping=mapping,
                dry_run=opts["dry_run"],
                atomic=not opts["partial"],
                by=by,
                progress=progress,
            )
        except CsvImportError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write("")
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for row in report.errors:
                self.stdout.write(f"row {row.row}: {row.reason}")
            if report.committed:
                outcome = "written"
            elif report.dry_run:
                outcome = "dry run: nothing written"
            else:
                outcome = "nothing written"
            self.stdout.write(
                f"{report.count('created')} created, {report.count('updated')} updated, "
                f"{report.count('unchanged')} unchanged, {len(report.errors)} bad rows; {outcome}"
            )
        if report.errors and not report.committed and not opts["dry_run"]:
            raise CommandError("nothing imported: fix the rows above or use --partial")
