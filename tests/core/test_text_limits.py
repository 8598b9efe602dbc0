"""cut and fit: texts shortened with a mark, blocks fitted under a limit."""

import pytest

from models.text_limits import MARK, cut, fit, joined_length


def test_item3_cut_keeps_a_short_text_and_marks_a_long_one() -> None:
    assert cut("valve", 5) == "valve"
    assert cut("valve stuck", 7) == "valve" + MARK  # the space before the mark is dropped
    assert len(cut("x" * 5000, 600)) == 600
    assert cut("abc", 0) == ""


@pytest.mark.parametrize("sizes", [[10, 20], [5000] * 4, [1000] * 4 + [20], [0] * 45, [4096] * 45])
def test_item3_fit_cuts_only_the_longest_blocks_as_little_as_needed(sizes: list[int]) -> None:
    header = "4 items need your attention:"
    blocks = ["b" * size for size in sizes]
    fitted = fit(header, blocks, 4096)
    assert joined_length(header, fitted) <= 4096
    if joined_length(header, blocks) <= 4096:
        assert fitted == blocks
    else:
        cap = max(len(b) for b in fitted)
        assert all(b == o for b, o in zip(fitted, blocks, strict=True) if len(o) < cap)
        assert joined_length(header, fit(header, blocks, 4096 - 1)) <= 4096 - 1
        # one character more for every cut block would not have fitted
        assert joined_length(header, [cut(o, cap + 1) for o in blocks]) > 4096


def test_item3_fit_keeps_the_short_item_whole_beside_long_notes() -> None:
    fitted = fit("h", ["short", "n" * 3000, "n" * 3000], 4096)
    assert fitted[0] == "short" and fitted[1].endswith(MARK)
