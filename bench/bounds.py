"""
Worst cases of the two things a reader's or an editor's text drives: the
Markdown renderer and the diff. Each input is timed (best of three) in this
process; ``make bench`` prints the slowest of each kind.

The renderer's inputs are the security probe's, which must render or be
refused in under 100 ms, and the largest accepted text of each costly shape.
The diff's are pairs of 200 KB texts, which must compare in under 1 s.
"""

import random
import time

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


def _best_of_three(function):
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def measure():
    """{"render": [(name, ms)], "diff": [(name, ms)]}, slowest first."""
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
    return {
        "render": sorted(render, key=lambda item: -item[1]),
        "diff": sorted(diff, key=lambda item: -item[1]),
    }
