import difflib
import sys
import time
from contextlib import nullcontext

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from monographs.importer import MAX_FILE_BYTES, ImportProblem, find_files, parse_file
from monographs.models import MagnesiumForm
from monographs.permissions import can_publish
from monographs.services import monograph_import
from monographs.services.importing_bulk import ImportRun

PROGRESS_FROM = 20


class Command(BaseCommand):
    help = (
        "Import monograph files (Markdown with front matter, or clinical summaries). "
        "Each file is written whole or not at all (a folder's files are "
        "committed in batches, each file in a savepoint); imported content "
        "waits for review unless "
        "--publish --as <reviewer> is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", help="Files or folders (searched recursively)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would change; write nothing.",
        )
        parser.add_argument(
            "--strict", action="store_true", help="Stop at the first file that fails."
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish what is imported (needs --as).",
        )
        parser.add_argument(
            "--as",
            dest="username",
            help="The reviewer account to record as the author.",
        )
        parser.add_argument(
            "--max-size",
            type=int,
            default=MAX_FILE_BYTES,
            help=f"Largest file to read, in bytes (default {MAX_FILE_BYTES:,}).",
        )

    def handle(self, *args, **options):
        user = self._user(options)
        files = find_files(options["paths"])
        if not files:
            raise CommandError("No files found at the paths given.")
        totals = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        show_progress = len(files) >= PROGRESS_FROM and options["verbosity"] > 0
        self._started = time.monotonic()
        imported_from = {}
        # A folder's files are written in bulk, reusing what earlier files
        # looked up; a single file row by row (the reference the bulk
        # writer is tested against, and no slower for one file).
        run = ImportRun() if len(files) > 1 else None
        options = {**options, "show_progress": show_progress}
        remaining = iter(enumerate(files, start=1))
        stopped = False
        while not stopped:
            # A folder's files are committed a batch at a time, each file in
            # a savepoint of its own: a file that fails is rolled back alone.
            with run.batch() if run else nullcontext() as batch:
                for index, path in remaining:
                    if not self._import_file(
                        index, path, files, user, run, imported_from, totals, options
                    ):
                        stopped = True
                        break
                    if batch is None or batch.full():
                        break
                else:
                    break
        if stopped:
            self._summary(totals, options, stopped=True)
            raise CommandError("Stopped at the first failure (--strict).") from None
        if show_progress:
            self.stderr.write("")
        self._summary(totals, options)
        if totals["failed"]:
            sys.exit(1)

    def _import_file(
        self, index, path, files, user, run, imported_from, totals, options
    ):
        """Import one file; False if the run is to stop (--strict)."""
        show_progress = options["show_progress"]
        try:
            if not path.exists():
                raise ImportProblem(path, None, "no such file")
            parsed = parse_file(path, max_bytes=options["max_size"])
            if run is not None:
                form = run.form_by_name(parsed.title)
            else:
                form = MagnesiumForm.objects.by_name(parsed.title)
            if form is not None and form.pk in imported_from:
                raise ImportProblem(
                    path,
                    None,
                    f"describes {form} like {imported_from[form.pk].name} does; "
                    "import one file per monograph (merge them first)",
                )
            result = monograph_import(
                parsed=parsed,
                user=user,
                publish_as=user if options["publish"] else None,
                dry_run=options["dry_run"],
                with_diff=options["dry_run"] or options["verbosity"] > 1,
                run=run,
                title_match=form,
            )
        except ImportProblem as problem:
            totals["failed"] += 1
            self.stderr.write(f"{'' if not show_progress else chr(10)}error: {problem}")
            return not options["strict"]
        imported_from[result.form.pk] = path
        totals[result.status] += 1
        for warning in parsed.warnings:
            self.stderr.write(f"warning: {warning}")
        if options["verbosity"] > 1 or (options["dry_run"] and result.diff):
            self._report(path, result, options)
        if show_progress:
            self._progress(index, len(files))
        return True

    def _user(self, options):
        username = options["username"]
        if options["publish"] and not username:
            raise CommandError("--publish needs --as <reviewer username>.")
        if username is None:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account is called '{username}'.")
        if options["publish"] and not can_publish(user):
            raise CommandError(
                f"'{username}' is not a reviewer: only reviewers may publish imports."
            )
        return user

    def _progress(self, done, total, width=30):
        filled = width * done // total
        elapsed = time.monotonic() - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate else 0.0
        self.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files, "
            f"{rate:.1f} files/s, {_duration(left)} left ",
            ending="",
        )
        self.stderr.flush()

    def _report(self, path, result, options):
        verb = "would be " if options["dry_run"] else ""
        self.stdout.write(f"{path}: {result.form} {verb}{result.status}")
        if result.diff is None:
            return
        for change in result.diff.fields:
            self.stdout.write(f"  {change.label}:")
            lines = difflib.unified_diff(
                change.old.splitlines(), change.new.splitlines(), lineterm="", n=1
            )
            for line in list(lines)[2:]:
                self.stdout.write(f"    {line}")
        for change in result.diff.rows:
            sign = {"added": "+", "removed": "-"}.get(change.action, "~")
            self.stdout.write(f"  {sign} {change.section}: {change.label}")

    def _summary(self, totals, options, stopped=False):
        prefix = "Dry run, nothing written. Would have: " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{totals['created']} created, {totals['updated']} updated, "
            f"{totals['unchanged']} unchanged, {totals['failed']} failed"
            + (" (stopped early)." if stopped else ".")
        )


def _duration(seconds):
    """Seconds as a short, readable time left: "42 s", "3 min 5 s", "1 h 2 min"."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
