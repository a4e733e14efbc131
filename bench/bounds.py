"""
Worst cases of the two things a reader's or an editor's text drives: the
Markdown renderer and the diff. Each input is timed (best of three) in this
process; ``make bench`` prints the slowest of each kind.

The renderer's inputs are the security probe's, which must render or be
refused in under 100 ms, and the largest accepted text of each costly shape.
The diff's are pairs of 200 KB texts, which must compare in under 1 s. The
importer's are the probe's files, which must be read or refused in under 1 s.
"""

import contextlib
import random
import tempfile
import time
from pathlib import Path

RENDER_INPUTS = {
    "nested list, 2 KB": "- " * 1000 + "x",
    "open images, 16 KB": "![" * 8000,
    "open brackets, 8 KB": "[" * 8000,
    "open citations, 8 KB": "[@a;" * 2000,
    "100 KB of one word": "magnesium " * 10_000,
    "100 KB of links": "[a](http://x.example/) " * 4_300,
    "100 KB of emphasis": "*a* _b_ **c** " * 7_000,
    "100 KB of paragraphs": "Short.\n\n" * 12_000,
    "100 KB of citation markers": "Claim [@key2020]. " * 5_500,
}


def _words(count, seed):
    rng = random.Random(seed)
    vocabulary = [f"word{n}" for n in range(500)] + ["the", "of", "magnesium"]
    return " ".join(rng.choice(vocabulary) for _ in range(count))


def _diff_pairs():
    base = _words(30_000, 1)[:200_000]
    lines = "\n".join(base[i : i + 80] for i in range(0, len(base), 80))
    rng = random.Random(2)
    edited = lines.splitlines()
    for index in rng.sample(range(len(edited)), 200):
        edited[index] = edited[index][::-1]
    return {
        "200 KB, one long line, every word changed": (
            base,
            _words(30_000, 3)[:200_000],
        ),
        "200 KB, 2,500 lines, 200 changed": (lines, "\n".join(edited)),
        "200 KB, 2,500 lines, all replaced": (lines, _words(30_000, 4)[:200_000]),
        "200 KB, 2,500 lines, every other one changed": (
            lines,
            "\n".join(
                line[::-1] if number % 2 else line
                for number, line in enumerate(lines.splitlines())
            ),
        ),
        "200 KB, same line repeated, one changed": (
            "same line\n" * 20_000,
            "same line\n" * 10_000 + "changed\n" + "same line\n" * 9_999,
        ),
    }


def _import_files():
    """The probe's importer inputs: a YAML alias bomb, a 60 KB heading line,
    and the largest file the importer takes, of one long paragraph."""
    laughs = ["---", "title: Magnesium laughs", 'a: &a ["lol","lol","lol"]']
    for level in range(1, 10):
        previous, name = "abcdefghij"[level - 1], "abcdefghij"[level]
        laughs.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 10)}]")
    laughs += ["synonyms: *j", "---", "### Usage", "Laughter."]
    head = "---\ntitle: Magnesium bench\n---\n"
    return {
        "YAML alias bomb": "\n".join(laughs),
        "60 KB heading line": head + "## Usage" + " " * 60_000 + "x\nText.\n",
        "500 KB, one paragraph": head + "### Usage\n" + "word and more\n" * 36_000,
    }


def _parse(path):
    from monographs.importer import ImportProblem, parse_file

    # Refused in time is what the bound promises, as much as read.
    with contextlib.suppress(ImportProblem):
        parse_file(path)


def _best_of_three(function):
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def measure():
    """{"render"|"diff"|"import": [(name, ms)]}, slowest first."""
    from monographs.diffs import word_diff
    from monographs.markdown import render_markdown

    render = [
        (name, _best_of_three(lambda text=text: render_markdown(text)))
        for name, text in RENDER_INPUTS.items()
    ]
    diff = [
        (name, _best_of_three(lambda pair=pair: word_diff(*pair)))
        for name, pair in _diff_pairs().items()
    ]
    with tempfile.TemporaryDirectory() as folder:
        parse = []
        for name, text in _import_files().items():
            path = Path(folder) / "bench.md"
            path.write_text(text, encoding="utf-8")
            parse.append((name, _best_of_three(lambda path=path: _parse(path))))
    return {
        "render": sorted(render, key=lambda item: -item[1]),
        "diff": sorted(diff, key=lambda item: -item[1]),
        "import": sorted(parse, key=lambda item: -item[1]),
    }
