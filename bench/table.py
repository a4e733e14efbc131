"""
The README's benchmark table, from bench/results.json.

    .venv/bin/python -m bench.table [bench/results.json]

Prints Markdown: one row per page with requests/s, p50/p99 latency, errors
and the ratio to the static file, then the worst render and diff, the write
cost, worker RSS and the import rate. The README's table is this output,
pasted, so that no figure in it is typed by hand.
"""

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def _number(value, digits=0):
    return f"{value:,.{digits}f}"


def _accepting(encoding):
    if encoding is None:
        return ""
    if not encoding:
        return ", no Accept-Encoding"
    return f", requests sent with Accept-Encoding: {encoding} (as Chromium)"


def _sent(page):
    """The answer's size and encoding, e.g. "10.8 KB br"."""
    if "body_bytes" not in page:
        return "-"
    size = f"{page['body_bytes'] / 1000:,.1f} KB"
    return f"{size} {page['content_encoding']}".strip()


def table(data):
    setup = data["setup"]
    lines = [
        f"Measured {data['when']} on {data['machine']['cores']} cores: "
        f"{setup['database']}, {setup['cache']}, {setup['gunicorn_workers']} "
        f"gunicorn workers"
        + (
            ", no worker recycling"
            if setup.get("worker_recycling", "").startswith("off")
            else ""
        )
        + f", wrk -t{setup['wrk']['threads']} "
        f"-c{setup['wrk']['connections']} -d{setup['wrk']['duration']}"
        + _accepting(setup["wrk"].get("accept_encoding"))
        + ".",
        "",
        "| page | sent | req/s | p50 ms | p99 ms | errors | × static |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for page in data["pages"]:
        ratio = page.get("ratio_to_static")
        lines.append(
            f"| {page['name']} | {_sent(page)} | {_number(page['requests_per_s'], 1)} "
            f"| {_number(page['p50_ms'], 1)} | {_number(page['p99_ms'], 1)} "
            f"| {page['errors']} | {'-' if ratio is None else f'{ratio:.3f}'} |"
        )
    lines.append("")
    for kind, limit in [("render", 100), ("diff", 1000), ("import", 1000)]:
        cases = data.get("bounds_ms", {}).get(kind)
        if cases:
            name, ms = cases[0]
            lines.append(
                f"- Slowest {kind}: {ms:.1f} ms ({name}; target < {limit} ms)."
            )
    write = data.get("write_cost")
    if write and write.get("ratio_to_before") is not None:
        lines.append(
            f"- Write cost: {write['ms_per_revision']:.2f} ms per saved revision, "
            f"{write['ratio_to_before']:.2f}× the cost before revisions held "
            "documents (target < 1.5×)."
        )
    elif write:
        lines.append(
            f"- Write cost: {write['ms_per_revision']:.2f} ms per saved revision "
            "(no figure from before documents for this database)."
        )
    rss = data["rss"]
    lines.append(f"- Worker RSS: at most {rss['worker_max_mib']:.0f} MiB.")
    imported = data["import"]
    lines.append(
        f"- Import: {imported['files']} files in {imported['seconds']:.1f} s, "
        f"{imported['files_per_s']:.1f} files/s."
    )
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else RESULTS
    sys.stdout.write(table(json.loads(path.read_text())) + "\n")


if __name__ == "__main__":
    main()
