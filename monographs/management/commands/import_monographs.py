import difflib
import functools
import sys
import time
from contextlib import nullcontext

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from monographs.importer import MAX_FILE_BYTES, ImportProblem, find_files, parse_file
from monographs.models import MagnesiumForm
from monographs.permissions import can_publish
from monographs.services import monograph_import
from monographs.services.importing_bulk import ImportRun

PROGRESS_FROM = 20
# What a batch asks of the run after it (Command._batch).
STOP = "stop"
REDO = "redo"


class Command(BaseCommand):
    help = (
        "Import monograph files (Markdown with front matter, or clinical summaries). "
        "Each file is written whole or not at all (a folder's files are "
        "committed in batches; a file that fails is rolled back alone); "
        "imported content "
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
        self._held = None
        imported_from = {}
        # A folder's files are written in bulk, reusing what earlier files
        # looked up; a single file row by row (the reference the bulk
        # writer is tested against, and no slower for one file).
        run = ImportRun() if len(files) > 1 else None
        options = {**options, "show_progress": show_progress}
        with_diff = options["dry_run"] or options["verbosity"] > 1
        # Batches without a savepoint per file where nothing is rolled back
        # on purpose (a dry run) or done per file (a diff, an approval).
        fast = (
            run is not None
            and not with_diff
            and not options["publish"]
            and connection.features.can_return_rows_from_bulk_insert
        )
        state = _State(imported_from, totals)
        numbered = list(enumerate(files, start=1))
        start = 0
        stopped = False
        while start < len(numbered) and not stopped:
            # A folder's files are committed a batch at a time. A fast batch
            # takes no savepoints: if one of its files fails, it is rolled
            # back whole and its files imported again, each in a savepoint
            # of its own, so that the file that fails is rolled back alone.
            count = len(numbered) - start
            if fast:
                done, outcome = self._batch(
                    numbered[start:], files, user, run, state, options, fast=True
                )
                if outcome is not REDO:
                    start += done
                    stopped = outcome is STOP
                    continue
                count = done
            done, outcome = self._batch(
                numbered[start : start + count],
                files,
                user,
                run,
                state,
                options,
                fast=False,
            )
            start += done
            stopped = outcome is STOP
        if stopped:
            self._summary(totals, options, stopped=True)
            raise CommandError("Stopped at the first failure (--strict).") from None
        if show_progress:
            self.stderr.write("")
        self._summary(totals, options)
        if totals["failed"]:
            sys.exit(1)

    def _batch(self, numbered, files, user, run, state, options, *, fast):
        """Import files of ``numbered`` ([(index, path)]) in one batch (one
        file outside a folder import): (how many were done, STOP if the run
        is to stop, else None). A fast batch's output is held until it
        commits; if one of its files fails, it is rolled back and gives
        (how many were tried, REDO), to be imported again with savepoints."""
        saved = state.copy()
        self._held = [] if fast else None
        done, outcome = 0, None
        try:
            with run.batch(fast=fast) if run else nullcontext() as batch:
                for index, path in numbered:
                    done += 1
                    if not self._import_file(
                        index, path, files, user, run, state, options
                    ):
                        outcome = STOP
                        break
                    if batch is None or batch.full():
                        break
        except (_BatchFailed, DatabaseError):
            if not fast:
                raise
            state.restore(saved)
            self._held = None
            return done, REDO
        held, self._held = self._held, None
        for write in held or ():
            write()
        return done, outcome

    def _write(self, write, *args, **kwargs):
        """write(*args, **kwargs) (stream.write, or stream.flush), held until
        a fast batch commits."""
        if self._held is None:
            write(*args, **kwargs)
        else:
            self._held.append(functools.partial(write, *args, **kwargs))

    def _import_file(self, index, path, files, user, run, state, options):
        """Import one file; False if the run is to stop (--strict)."""
        show_progress = options["show_progress"]
        totals = state.totals
        try:
            if not path.exists():
                raise ImportProblem(path, None, "no such file")
            parsed = parse_file(path, max_bytes=options["max_size"])
            if run is not None:
                form = run.form_by_name(parsed.title)
            else:
                form = MagnesiumForm.objects.by_name(parsed.title)
            if form is not None and state.imported_from_path(form) is not None:
                raise ImportProblem(
                    path,
                    None,
                    f"describes {form} like {state.imported_from_path(form).name} "
                    "does; import one file per monograph (merge them first)",
                )
            try:
                result = monograph_import(
                    parsed=parsed,
                    user=user,
                    publish_as=user if options["publish"] else None,
                    dry_run=options["dry_run"],
                    with_diff=options["dry_run"] or options["verbosity"] > 1,
                    run=run,
                    title_match=form,
                )
            except ImportProblem:
                if run is not None and run.fast and not run.failed_cleanly():
                    # Without a savepoint, the batch is rolled back whole.
                    raise _BatchFailed from None
                raise
        except ImportProblem as problem:
            totals["failed"] += 1
            self._write(
                self.stderr.write,
                f"{'' if not show_progress else chr(10)}error: {problem}",
            )
            return not options["strict"]
        state.imported(result.form, path)
        totals[result.status] += 1
        for warning in parsed.warnings:
            self._write(self.stderr.write, f"warning: {warning}")
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
        self._write(
            self.stderr.write,
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files, "
            f"{rate:.1f} files/s, {_duration(left)} left ",
            ending="",
        )
        self._write(self.stderr.flush)

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


class _BatchFailed(Exception):
    """A file of a fast batch failed: the batch is rolled back whole."""


class _State:
    """What the run has imported: {form id: path}, and totals by status."""

    def __init__(self, imported_from, totals, unsaved=()):
        self.imported_from = imported_from
        self.totals = totals
        # [(form, path)]: forms a fast batch inserts as it ends.
        self.unsaved = list(unsaved)

    def imported(self, form, path):
        if form.pk is None:
            self.unsaved.append((form, path))
        else:
            self.imported_from[form.pk] = path

    def imported_from_path(self, form):
        """The file that imported ``form``, or None."""
        if self.unsaved:
            waiting = []
            for unsaved, path in self.unsaved:
                if unsaved.pk is None:
                    waiting.append((unsaved, path))
                else:
                    self.imported_from[unsaved.pk] = path
            self.unsaved = waiting
        return self.imported_from.get(form.pk)

    def copy(self):
        return _State(dict(self.imported_from), dict(self.totals), self.unsaved)

    def restore(self, saved):
        self.imported_from.clear()
        self.imported_from.update(saved.imported_from)
        self.totals.clear()
        self.totals.update(saved.totals)
        self.unsaved = list(saved.unsaved)


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
