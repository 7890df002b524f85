from bot.catalogue.render import MAX_FIELD_CHARS, _fit, labels


def test_fit_cuts_whole_lines_and_says_so():
    lines = [f"• giấy tờ số {i} " + "x" * 90 for i in range(40)]
    text = _fit(lines)
    assert len(text) <= MAX_FIELD_CHARS + len(labels()["truncated"]) + 1
    assert text.endswith(labels()["truncated"])
    assert all(line in lines for line in text.split("\n")[:-1])


def test_short_lists_are_whole():
    assert _fit(["a", "b"]) == "a\nb"
