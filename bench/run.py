"""
mgref under load: build a large dataset in a fresh database, serve it with
gunicorn and production settings on loopback, and drive each page with wrk.

    .venv/bin/python -m bench.run [--duration 10s] [--connections 16]
        [--database-url postgres://postgres@127.0.0.1:5432/mgref_bench]
        [--redis-url redis://127.0.0.1:6379/15]

It prints the figures and writes them to bench/results.json. There are no
thresholds: it exits non-zero only when something did not work.
"""

import argparse
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
SQLITE_PATH = BENCH_DIR / "bench.sqlite3"
RESULTS_PATH = BENCH_DIR / "results.json"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
POSTGRES_NAME = "mgref_bench"
# The write cost before revisions held documents, per database vendor: the
# same build of 10,000 revisions by 5e59f5c's bench/dataset.add_revisions,
# run on the machine of the README's figures, alternately with this code
# (3.15 and 3.19 ms per revision, against 2.40 and 2.32 ms), on SQLite. A
# figure of one machine: on another, run that commit's add_revisions to
# compare (the 5.13 ms of earlier notes was measured on a slower machine).
WRITE_MS_BEFORE_DOCUMENTS = {"sqlite": 3.17}
NO_CACHE_SETTINGS = "bench_nocache_settings"
# What Chromium sends: readers get whitenoise's and the page cache's
# compressed bodies, so that is what is measured.
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd"
NO_CACHE_SETTINGS_TEXT = """\
# Written by bench/run.py: mgref's settings with every cache a DummyCache.
from mgref.settings import *  # noqa: F403
from mgref.settings import CACHES

CACHES = {
    alias: {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    for alias in CACHES
}
"""


class BenchError(Exception):
    """Something the benchmark needs did not work; the message says what."""


def say(text=""):
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Build a large mgref dataset and load-test it under gunicorn with wrk.",
    )
    parser.add_argument(
        "--database-url",
        help=(
            "A PostgreSQL server to benchmark on, e.g. "
            f"postgres://postgres@127.0.0.1:5432/{POSTGRES_NAME}. The database "
            "(default name mgref_bench; the name must contain 'bench') is dropped "
            f"and created. Default: SQLite in {SQLITE_PATH.relative_to(ROOT)}."
        ),
    )
    parser.add_argument(
        "--redis-url",
        help=(
            "Cache in this Redis database, e.g. redis://127.0.0.1:6379/15. It is "
            "FLUSHED at the start: give one nothing else uses. Default: local "
            "memory (per worker); REDIS_URL in the environment is ignored."
        ),
    )
    parser.add_argument(
        "--accept-encoding",
        default=BROWSER_ACCEPT_ENCODING,
        help=(
            "The Accept-Encoding header of every request, as a browser sends it "
            f"(default {BROWSER_ACCEPT_ENCODING!r}); '' for none, as wrk alone does."
        ),
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk -c")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--duration", default="10s", help="wrk -d, e.g. 3s or 1m")
    parser.add_argument(
        "--timeout", default="10s", help="wrk --timeout: slower answers are errors"
    )
    parser.add_argument(
        "--soak-duration",
        default="60s",
        help="The soak run on the published monograph (0 to skip), e.g. 60s",
    )
    parser.add_argument(
        "--soak-connections", type=int, default=64, help="wrk -c for the soak run"
    )
    parser.add_argument(
        "--monograph",
        default=None,
        help="Slug of the published monograph to load (default: the history one).",
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS_PATH, help="Where to write the JSON."
    )
    args = parser.parse_args(argv)
    if args.connections < 1 or args.threads < 1:
        parser.error("--connections and --threads must be at least 1")
    args.threads = min(args.threads, args.connections)
    return args


# Databases -----------------------------------------------------------------


class SQLiteDatabase:
    vendor = "sqlite"

    def __init__(self, path):
        self.path = path
        self.url = f"sqlite:///{path}"
        self.clone_path = path.with_name(f"{path.stem}-import{path.suffix}")

    def _remove(self, path):
        for name in (path, *path.parent.glob(f"{path.name}-*")):
            Path(name).unlink(missing_ok=True)

    def create(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._remove(self.path)

    def clone(self):
        shutil.copyfile(self.path, self.clone_path)
        return f"sqlite:///{self.clone_path}"

    def drop_clone(self):
        self._remove(self.clone_path)

    def describe(self):
        return f"SQLite {self.path}"


class PostgresDatabase:
    vendor = "postgresql"

    def __init__(self, url):
        import dj_database_url

        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise BenchError(f"--database-url must be a postgres:// URL, not {url!r}.")
        self.name = parts.path.strip("/") or POSTGRES_NAME
        if "bench" not in self.name:
            raise BenchError(
                f"Refusing to drop and recreate the database {self.name!r}: name a "
                f"database for the benchmark only, e.g. .../{POSTGRES_NAME}."
            )
        self.url = parts._replace(path=f"/{self.name}").geturl()
        self.clone_name = f"{self.name}_import"
        self.clone_url = parts._replace(path=f"/{self.clone_name}").geturl()
        config = dj_database_url.parse(self.url)
        self.server = {
            "host": config["HOST"] or None,
            "port": config["PORT"] or None,
            "user": config["USER"] or None,
            "password": config["PASSWORD"] or None,
        }

    def _admin(self, *statements):
        import psycopg
        from psycopg import sql

        try:
            with psycopg.connect(
                dbname="postgres", autocommit=True, **self.server
            ) as connection:
                for statement, *names in statements:
                    connection.execute(
                        sql.SQL(statement).format(*map(sql.Identifier, names))
                    )
        except psycopg.Error as error:
            raise BenchError(f"PostgreSQL: {error}".strip()) from None

    def create(self):
        self._admin(
            ("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.clone_name),
            ("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ("CREATE DATABASE {}", self.name),
        )

    def clone(self):
        self._admin(
            ("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.clone_name),
            ("CREATE DATABASE {} TEMPLATE {}", self.clone_name, self.name),
        )
        return self.clone_url

    def drop_clone(self):
        self._admin(("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.clone_name))

    def describe(self):
        host = self.server["host"] or "local socket"
        return f"PostgreSQL database {self.name} on {host}"


# Processes -------------------------------------------------------------------


def production_env(database_url, redis_url, tmp):
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP on loopback: no proxy in front to redirect to HTTPS.
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=database_url,
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        DJANGO_MEDIA_ROOT=str(tmp / "media"),
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(env, *args, check=True):
    """Run manage.py; return (seconds, completed process)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if check and completed.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(args)} failed (exit {completed.returncode}):\n"
            f"{(completed.stderr or completed.stdout).strip()[-3000:]}"
        )
    return seconds, completed


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, timeout=120, accept_encoding=""):
    """(status, seconds, body, headers) of one GET, redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    started = time.perf_counter()
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, time.perf_counter() - started, body, response.headers


def rss_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB, from /proc/<pid>/status."""
    values = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in {"VmRSS", "VmHWM"}:
                    values[name] = int(value.split()[0])
    except OSError:
        return None, None
    return values.get("VmRSS"), values.get("VmHWM")


TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """(busy, stolen) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq) / TICK, steal / TICK


def process_cpu(pids):
    """CPU seconds of these processes and of the children they have reaped."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        # After the command name: state is field 3, utime..cstime are 14-17.
        fields = text[text.rindex(")") + 2 :].split()
        total += sum(int(value) for value in fields[11:15])
    return total / TICK


def reaped_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuShare:
    """How much of the machine other processes used while gunicorn and wrk ran:
    the figures only hold when the machine was otherwise idle."""

    def __init__(self, server):
        self.server = server
        self.started = self.sample()

    def sample(self):
        pids = [self.server.process.pid, *self.server.worker_pids()]
        busy, stolen = machine_cpu()
        ours = process_cpu(pids) + reaped_cpu()
        return time.monotonic(), busy, stolen, ours

    def finish(self):
        """(others %, stolen %) of the machine's capacity during the run."""
        ended = self.sample()
        wall, busy, stolen, ours = (
            b - a for a, b in zip(self.started, ended, strict=True)
        )
        capacity = wall * (os.cpu_count() or 1)
        others = max(busy - ours, 0) / capacity * 100
        return round(others, 1), round(stolen / capacity * 100, 1)


def children(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # The command name, in parentheses, may hold spaces: split after it.
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


class Server:
    """gunicorn serving mgref on a free loopback port."""

    def __init__(self, env, log_path, label):
        self.env = env
        self.log_path = log_path
        self.label = label
        self.process = None
        self.port = None

    def command(self):
        command = [sys.executable, "-m", "gunicorn", "mgref.wsgi"]
        if GUNICORN_CONF.exists():
            command += ["-c", str(GUNICORN_CONF)]
        else:
            workers = self.env.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1
            command += ["--workers", str(workers), "--timeout", "60"]
        # After -c: command-line settings override the config file's.
        # No worker recycling (gunicorn.conf.py's max_requests) while
        # measuring: a recycled worker starts with an empty local-memory
        # cache, and its misses would be counted as the hits' cost.
        return [
            *command,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--max-requests",
            "0",
        ]

    def start(self, wait=60):
        self.port = free_port()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"gunicorn ({self.label}) exited with {self.process.returncode}:\n"
                    f"{self.log_tail()}"
                )
            try:
                status = get(self.port, "/healthz", timeout=5)[0]
            except OSError:
                status = None
            if status == 200:
                return
            time.sleep(0.2)
        raise BenchError(
            f"gunicorn ({self.label}) did not answer /healthz within {wait} s:\n"
            f"{self.log_tail()}"
        )

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_pids(self):
        return children(self.process.pid)

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


# wrk -------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
LATENCY_RE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
REQUESTS_RE = re.compile(r"^\s*(\d+) requests in", re.M)
SOCKET_RE = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)
NON_2XX_RE = re.compile(r"Non-2xx or 3xx responses: (\d+)")


@dataclass
class Result:
    name: str
    path: str
    server: str
    requests_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    errors: int
    error_detail: str
    first_request_ms: float
    x_cache: str
    # How the measured answers came: Content-Encoding ("" for none) and size.
    content_encoding: str
    body_bytes: int
    others_cpu_pct: float
    stolen_cpu_pct: float
    ratio_to_static: float | None = None


def parse_wrk(output):
    rps = RPS_RE.search(output)
    if rps is None:
        raise BenchError(f"Could not read wrk's output:\n{output}")
    latency = {
        percent: float(value) * UNITS_MS[unit]
        for percent, value, unit in LATENCY_RE.findall(output)
    }
    requests = REQUESTS_RE.search(output)
    socket_errors = SOCKET_RE.search(output)
    non_2xx = NON_2XX_RE.search(output)
    details = []
    errors = 0
    if non_2xx:
        errors += int(non_2xx.group(1))
        details.append(f"{non_2xx.group(1)} non-2xx/3xx")
    if socket_errors:
        for kind, count in zip(
            ("connect", "read", "write", "timeout"),
            map(int, socket_errors.groups()),
            strict=True,
        ):
            if count:
                errors += count
                details.append(f"{count} {kind}")
    return {
        "requests_per_s": float(rps.group(1)),
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "requests": int(requests.group(1)) if requests else 0,
        "errors": errors,
        "error_detail": ", ".join(details),
    }


def wrk(args, url, duration, connections=None):
    connections = connections or args.connections
    completed = subprocess.run(
        [
            "wrk",
            f"-t{min(args.threads, connections)}",
            f"-c{connections}",
            f"-d{duration}",
            f"--timeout={args.timeout}",
            "--latency",
            *(
                ["-H", f"Accept-Encoding: {args.accept_encoding}"]
                if args.accept_encoding
                else []
            ),
            url,
        ],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise BenchError(f"wrk failed on {url}:\n{completed.stderr.strip()}")
    return parse_wrk(completed.stdout)


# The run ---------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        self.database = (
            PostgresDatabase(args.database_url)
            if args.database_url
            else SQLiteDatabase(SQLITE_PATH)
        )
        self.tmp = Path(tempfile.mkdtemp(prefix="mgref-bench-"))
        self.steps = []
        self.problems = []
        self.results = []
        self.servers = []
        self.django_ready = False
        self.env = production_env(self.database.url, args.redis_url, self.tmp)

    @contextmanager
    def step(self, label):
        say(f"  {label} …")
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.steps.append({"step": label, "seconds": round(seconds, 2)})
        say(f"  {label}: {seconds:.1f} s")

    def run(self):
        if shutil.which("wrk") is None:
            raise BenchError(
                "wrk is not installed: apt-get install -y wrk (make bench does this)."
            )
        say(f"mgref benchmark on {self.database.describe()}")
        self.build_database()
        self.measure_bounds()
        self.measure_import()
        self.collect_static()
        self.measure_pages()
        self.report()

    def build_database(self):
        say("Dataset")
        os.environ.update(self.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "mgref.settings"
        import django

        django.setup()
        self.django_ready = True
        from django.conf import settings
        from django.core.management import call_command

        from bench import dataset

        self.cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        self.clear_redis()
        with self.step("create the database"):
            self.database.create()
        with self.step("migrate"):
            call_command("migrate", interactive=False, verbosity=0)
        editor, reviewer = dataset.users()
        with self.step("seed content (services.seed_load)"):
            dataset.seed(reviewer)
        with self.step(f"citations up to {dataset.CITATIONS:,}"):
            dataset.add_citations(editor)
        with self.step(f"published forms up to {dataset.FORMS}"):
            dataset.add_forms(editor, reviewer)
        with self.step(
            f"{dataset.REVISIONS:,} revisions of {dataset.HISTORY_SLUG}, "
            f"every {dataset.APPROVE_EVERY}th approved"
        ):
            dataset.add_revisions(
                editor, reviewer, progress=lambda text: say(f"    {text}")
            )
        self.import_folder = self.tmp / "imports"
        with self.step(f"write {dataset.IMPORT_FILES} import files"):
            dataset.import_files(self.import_folder)
        self.dataset = dataset.describe()
        self.monograph = self.args.monograph or self.dataset.history_slug
        say(
            f"  {self.dataset.forms} forms ({self.dataset.published_forms} published), "
            f"{self.dataset.citations:,} citations, {self.dataset.revisions:,} "
            f"revisions of {self.dataset.history_slug} "
            f"({len(self.dataset.published_numbers)} published)"
        )
        from django.db import connections

        connections.close_all()

    def measure_bounds(self):
        """The renderer's and the diff's worst cases, in this process."""
        from bench import bounds

        self.bounds = bounds.measure()
        for kind, limit in [("render", 100), ("diff", 1000), ("import", 1000)]:
            name, ms = self.bounds[kind][0]
            say(f"  slowest {kind}: {ms:.1f} ms ({name}; target < {limit} ms)")

    def measure_import(self):
        """Import the files into a copy of the database, so that the served one
        keeps its 50 forms."""
        files = sum(1 for _ in self.import_folder.rglob("*.md"))
        env = {**self.env, "DATABASE_URL": self.database.clone()}
        try:
            seconds, completed = manage(
                env, "import_monographs", str(self.import_folder), check=False
            )
        finally:
            self.database.drop_clone()
        summary = (completed.stdout.strip().splitlines() or [""])[-1]
        if completed.returncode != 0:
            errors = [line for line in completed.stderr.splitlines() if "error" in line]
            self.problems.append(
                f"import_monographs exited with {completed.returncode}: {summary}\n"
                + "\n".join(errors[:10])
            )
        self.import_result = {
            "files": files,
            "seconds": round(seconds, 2),
            "files_per_s": round(files / seconds, 1),
            "summary": summary,
        }
        say(
            f"  import_monographs, {files} files: {seconds:.1f} s, "
            f"{files / seconds:.1f} files/s ({summary})"
        )

    def collect_static(self):
        manage(self.env, "collectstatic", "--noinput", "--verbosity", "0")
        manifest = Path(self.env["DJANGO_STATIC_ROOT"]) / "staticfiles.json"
        try:
            paths = json.loads(manifest.read_text())["paths"]
        except (OSError, ValueError, KeyError):
            paths = {}
        self.static_path = f"/static/{paths.get('css/site.css', 'css/site.css')}"

    def start(self, env, label):
        server = Server(env, self.tmp / f"gunicorn-{len(self.servers)}.log", label)
        self.servers.append(server)
        server.start()
        return server

    def load(self, server, name, path, *, warm):
        """One wrk run; ``warm`` runs wrk briefly first so that every worker has
        served the page once."""
        encoding = self.args.accept_encoding
        status, seconds, body, headers = get(
            server.port, path, accept_encoding=encoding
        )
        if status != 200:
            self.problems.append(
                f"{path} answered {status}, not 200: {body[:300]!r}\n{server.log_tail(15)}"
            )
        if warm:
            wrk(self.args, server.url(path), "1s")
            status, _seconds, body, headers = get(
                server.port, path, accept_encoding=encoding
            )
        say(f"  {name}: {path}")
        share = CpuShare(server)
        figures = wrk(self.args, server.url(path), self.args.duration)
        others, stolen = share.finish()
        self.results.append(
            Result(
                name=name,
                path=path,
                server=server.label,
                first_request_ms=round(seconds * 1000, 1),
                # What the measured requests get: mgref's caching says hit or miss.
                x_cache=headers.get("X-Cache", "-"),
                content_encoding=headers.get("Content-Encoding", ""),
                body_bytes=len(body),
                others_cpu_pct=others,
                stolen_cpu_pct=stolen,
                **figures,
            )
        )

    def soak(self, server, path):
        """A long run at many connections: it must end with zero errors."""
        if self.args.soak_duration in ("0", "0s", ""):
            return
        connections = self.args.soak_connections
        say(f"  soak: {path}, {connections} connections, {self.args.soak_duration}")
        _status, _seconds, body, headers = get(
            server.port, path, accept_encoding=self.args.accept_encoding
        )
        share = CpuShare(server)
        figures = wrk(self.args, server.url(path), self.args.soak_duration, connections)
        others, stolen = share.finish()
        self.results.append(
            Result(
                name=f"soak, {connections} connections",
                path=path,
                server=server.label,
                first_request_ms=0,
                x_cache="hit",
                content_encoding=headers.get("Content-Encoding", ""),
                body_bytes=len(body),
                others_cpu_pct=others,
                stolen_cpu_pct=stolen,
                **figures,
            )
        )
        if figures.get("errors"):
            self.problems.append(
                f"The soak run on {path} had {figures['errors']} errors."
            )

    def dynamic_pages(self):
        slug = self.dataset.history_slug
        published = self.dataset.published_numbers
        older, newer = published[-2], published[-1]
        return [
            ("home", "/"),
            ("forms list", "/forms/"),
            ("history", f"/forms/{slug}/history/"),
            ("permalink", f"/forms/{slug}/revisions/{older}/"),
            ("diff", f"/forms/{slug}/diff/?from={older}&to={newer}"),
            ("search", "/search/?q=magnesium"),
            ("API list", "/api/v1/forms/"),
            ("API detail", f"/api/v1/forms/{slug}/"),
        ]

    def measure_pages(self):
        say(
            f"Load: wrk -t{self.args.threads} -c{self.args.connections} "
            f"-d{self.args.duration} --latency"
            + (
                f" -H 'Accept-Encoding: {self.args.accept_encoding}'"
                if self.args.accept_encoding
                else ""
            )
        )
        monograph = f"/forms/{self.monograph}/"
        server = self.start(self.env, "cached")
        self.load(server, "static file", self.static_path, warm=True)
        self.clear_redis()
        # The first request after start (and, with Redis, after a flush) is a miss.
        self.load(server, "monograph, warm cache", monograph, warm=True)
        for name, path in self.dynamic_pages():
            self.load(server, name, path, warm=True)
        self.soak(server, monograph)
        self.rss = self.measure_rss(server)
        self.workers = len(self.rss["workers"])
        server.stop()

        # Cold: every request a miss, on a server whose caches are DummyCache.
        settings_dir = self.tmp / "settings"
        settings_dir.mkdir()
        (settings_dir / f"{NO_CACHE_SETTINGS}.py").write_text(NO_CACHE_SETTINGS_TEXT)
        env = {
            **self.env,
            "DJANGO_SETTINGS_MODULE": NO_CACHE_SETTINGS,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(settings_dir), str(ROOT), self.env.get("PYTHONPATH")])
            ),
        }
        server = self.start(env, "no cache")
        self.load(server, "monograph, cold cache", monograph, warm=False)
        for name, path in self.dynamic_pages():
            self.load(server, f"{name}, no cache", path, warm=False)
        server.stop()

        static = self.results[0].requests_per_s
        for result in self.results:
            result.ratio_to_static = (
                round(result.requests_per_s / static, 3) if static else None
            )
        order = ["static file", "monograph, warm cache", "monograph, cold cache"]
        self.results.sort(
            key=lambda result: order.index(result.name) if result.name in order else 3
        )

    def clear_redis(self):
        """Empty the benchmark's Redis database: stale pages of an earlier run
        would carry the same keys."""
        if not self.args.redis_url:
            return
        from django.core.cache import cache

        try:
            cache.clear()
        except Exception as error:
            raise BenchError(f"Redis at {self.args.redis_url}: {error}") from None

    def measure_rss(self, server):
        workers = []
        for pid in server.worker_pids():
            rss, hwm = rss_kib(pid)
            if rss is not None:
                workers.append(
                    {"pid": pid, "rss_mib": rss / 1024, "hwm_mib": hwm / 1024}
                )
        master, _ = rss_kib(server.process.pid)
        return {
            "workers": [
                {name: round(value, 1) for name, value in worker.items()}
                for worker in workers
            ],
            "workers_total_mib": round(sum(w["rss_mib"] for w in workers), 1),
            "worker_max_mib": round(max((w["rss_mib"] for w in workers), default=0), 1),
            "master_mib": round((master or 0) / 1024, 1),
        }

    def report(self):
        header = (
            "page",
            "URL",
            "X-Cache",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "× static",
            "others %",
        )
        rows = [
            (
                result.name,
                result.path,
                result.x_cache,
                f"{result.requests_per_s:,.1f}",
                _ms(result.p50_ms),
                _ms(result.p99_ms),
                str(result.errors)
                + (f" ({result.error_detail})" if result.error_detail else ""),
                f"{result.ratio_to_static:.3f}"
                if result.ratio_to_static is not None
                else "-",
                f"{result.others_cpu_pct:.0f}",
            )
            for result in self.results
        ]
        widths = [
            max(len(row[i]) for row in [header, *rows]) for i in range(len(header))
        ]
        say()
        say(
            f"Results: {self.database.vendor}, cache {self.cache_backend}, "
            f"{self.workers} gunicorn workers"
            + (" (gunicorn.conf.py)" if GUNICORN_CONF.exists() else "")
            + f", {os.cpu_count()} cores, wrk -t{self.args.threads} "
            f"-c{self.args.connections} -d{self.args.duration}"
        )
        for row in [header, *rows]:
            say(
                "  ".join(
                    cell.ljust(width) if index < 3 else cell.rjust(width)
                    for index, (cell, width) in enumerate(zip(row, widths, strict=True))
                )
            )
        say()
        busiest = max(self.results, key=lambda result: result.others_cpu_pct)
        say(
            "others %: CPU that processes other than gunicorn and wrk used during "
            "the run, as a share of the machine."
            + (
                f" Up to {busiest.others_cpu_pct:.0f}% ({busiest.name}): other work "
                "on the machine skews these figures; run again when it is idle."
                if busiest.others_cpu_pct > 10
                else ""
            )
        )
        stolen = max(result.stolen_cpu_pct for result in self.results)
        if stolen > 10:
            say(f"The hypervisor stole up to {stolen:.0f}% of the CPU during a run.")
        say(
            "Cold cache: a second gunicorn whose caches are all DummyCache, so "
            "every request renders. '…, no cache' rows are the same pages there."
        )
        first = next(r for r in self.results if r.name == "monograph, warm cache")
        say(
            f"First request of the monograph after the server started"
            f"{' and Redis was flushed' if self.args.redis_url else ''}: "
            f"{first.first_request_ms:.0f} ms"
        )
        rss = self.rss
        per_worker = ", ".join(f"{w['rss_mib']:.0f}" for w in rss["workers"])
        say(
            f"Worker RSS after load: {rss['workers_total_mib']:.0f} MiB in total, "
            f"max {rss['worker_max_mib']:.0f} MiB (per worker: {per_worker} MiB; "
            f"master {rss['master_mib']:.0f} MiB)"
        )
        for kind, limit in [("render", 100), ("diff", 1000), ("import", 1000)]:
            cases = ", ".join(f"{name} {ms:.1f}" for name, ms in self.bounds[kind])
            say(f"Worst {kind} cases (ms, target < {limit}): {cases}")
        write = self.write_cost()
        if write["ratio_to_before"] is None:
            compared = "no figure from before documents for this database"
        else:
            compared = (
                f"{write['ratio_to_before']:.2f}× the {write['ms_before']} ms "
                "measured before revisions held documents; target < 1.5×"
            )
        say(
            f"Write cost: {write['ms_per_revision']:.2f} ms per saved revision ({compared})"
        )
        imported = self.import_result
        say(
            f"Import: {imported['files']} files in {imported['seconds']:.1f} s, "
            f"{imported['files_per_s']:.1f} files/s (whole manage.py run, start-up "
            "included)"
        )
        self.write_json()

    def write_cost(self):
        """Milliseconds per revision while building the history monograph."""
        from bench import dataset

        step = next(s for s in self.steps if "revisions of" in s["step"])
        ms = step["seconds"] * 1000 / dataset.REVISIONS
        before = WRITE_MS_BEFORE_DOCUMENTS.get(self.database.vendor)
        return {
            "ms_per_revision": round(ms, 2),
            "ms_before": before,
            "ratio_to_before": round(ms / before, 2) if before else None,
        }

    def write_json(self):
        data = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "setup": {
                "database": self.database.vendor,
                "cache": self.cache_backend,
                "gunicorn_workers": self.workers,
                "gunicorn_conf": GUNICORN_CONF.exists(),
                "wrk": {
                    "threads": self.args.threads,
                    "connections": self.args.connections,
                    "duration": self.args.duration,
                    "timeout": self.args.timeout,
                    "accept_encoding": self.args.accept_encoding,
                },
                "cold_cache": "second gunicorn with DummyCache for every cache alias",
                "worker_recycling": "off (--max-requests 0)",
            },
            "dataset": {**asdict(self.dataset), "steps": self.steps},
            "import": self.import_result,
            "pages": [asdict(result) for result in self.results],
            "rss": self.rss,
            "bounds_ms": self.bounds,
            "write_cost": self.write_cost(),
            "problems": self.problems,
        }
        self.args.results.write_text(json.dumps(data, indent=2) + "\n")
        say(f"Written to {self.args.results}")

    def cleanup(self):
        for server in self.servers:
            server.stop()
        if self.django_ready:
            try:
                self.clear_redis()
            except BenchError as error:
                say(f"bench: could not empty Redis: {error}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def _ms(value):
    return "-" if value is None else f"{value:,.1f}"


def main(argv=None):
    args = parse_args(argv)
    os.chdir(ROOT)
    try:
        bench = Bench(args)
    except BenchError as error:
        say(f"bench: {error}")
        return 2
    try:
        bench.run()
    except BenchError as error:
        say(f"\nbench failed: {error}")
        return 1
    except KeyboardInterrupt:
        say("\nbench interrupted")
        return 130
    except Exception:
        traceback.print_exc()
        say("\nbench failed: the unexpected error above.")
        return 1
    finally:
        bench.cleanup()
    if bench.problems:
        say("\nbench finished, but something failed:")
        for problem in bench.problems:
            say(f"- {problem}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
