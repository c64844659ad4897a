"""A run of some figures must not wipe the others out of BENCHMARKS.md.

`report.merge` folds the report of a partial run into the file as it was:
the figures run get their new row and section (opening with the facts of
the run that measured them), every other section stays byte for byte,
hand-written **Limit / profile** lines included.
"""

from __future__ import annotations

from report import Figure, merge, render, split

INFO = {
    "cores": "2",
    "cpu": "test CPU",
    "memory": "1.0 GiB",
    "os": "Linux",
    "python": "3.11",
    "libp2p": "0",
    "trio": "0",
    "pydantic": "0",
    "hypercorn": "0",
    "docker": "0",
    "wasmtime": "0",
    "docker engine": "absent",
    "hyperfine": "absent",
    "commit": "abc1234",
}
HAND_WRITTEN = "**Limit / profile:** the trio loop, measured by hand."


def _figure(num: int, result: str, met: bool) -> Figure:
    fig = Figure.new(num, f"how figure {num} was run")
    fig.result, fig.met = result, met
    fig.rows = [("value", result)]
    return fig


def _old_report() -> str:
    text = render(
        [_figure(1, "old one", True), _figure(2, "old two", False)],
        INFO,
        "full",
        "just bench",
    )
    placeholder = next(ln for ln in text.splitlines() if "_(to fill" in ln)
    # a hand edit left an extra blank line: kept as it is too
    return text.replace(placeholder, HAND_WRITTEN).replace("\n## 2.", "\n\n## 2.")


def _new_report(*figures: Figure) -> str:
    info = {**INFO, "commit": "def5678", "load": "1.50 at the start, 2.00 at the end"}
    return render(list(figures), info, "full", "just bench --only 2,10")


def test_figures_not_run_keep_their_sections_byte_for_byte() -> None:
    old = _old_report()
    merged = merge(old, _new_report(_figure(10, "new ten", True)))
    _, _, before = split(old)
    _, rows, after = split(merged)
    assert after[1] == before[1]
    assert after[1].endswith("\n\n\n")
    assert after[2].rstrip("\n") == before[2].rstrip("\n")  # was last: gap added
    assert HAND_WRITTEN in after[2]
    assert sorted(rows) == [1, 2, 10]
    assert merged.startswith(old.split("| # |")[0].rstrip("\n"))


def test_figures_run_replace_their_row_and_section_with_the_run_named() -> None:
    merged = merge(_old_report(), _new_report(_figure(2, "new two", True)))
    _, rows, sections = split(merged)
    assert "new two" in rows[2]
    assert "old two" not in merged
    assert HAND_WRITTEN not in sections[2]  # it spoke of the old numbers
    run_line = sections[2].splitlines()[2]
    assert run_line.startswith("**Run:** ")
    assert "just bench --only 2,10" in run_line
    assert "def5678" in run_line
    assert "load average" in run_line
    assert "**Run:**" not in sections[1]


def test_sections_stay_in_figure_order_and_the_note_is_not_repeated() -> None:
    once = merge(_old_report(), _new_report(_figure(10, "ten", True)))
    twice = merge(once, _new_report(_figure(3, "three", True)))
    _, rows, sections = split(twice)
    assert list(rows) == [1, 2, 3, 10]
    assert list(sections) == [1, 2, 3, 10]
    assert twice.count("measured in a later run") == 1
