from bot.catalogue.render import MAX_FIELD_CHARS, _fit, labels


def test_fit_cuts_whole_lines_and_says_so():
    lines = [f"• giấy tờ số {i} " + "x" * 90 for i in range(40)]
    text = _fit(lines)
    assert len(text) <= MAX_FIELD_CHARS + len(labels()["truncated"]) + 1
    assert text.endswith(labels()["truncated"])
    assert all(line in lines for line in text.split("\n")[:-1])


def test_short_lists_are_whole():
    assert _fit(["a", "b"]) == "a\nb"


def test_an_exemption_that_repeats_the_fee_is_said_once():
    from bot.catalogue.render import _repeats

    fee = "Miễn lệ phí đăng ký kết hôn giữa công dân Việt Nam cư trú ở trong nước."
    assert _repeats("Miễn lệ phí đăng ký kết hôn của công dân Việt Nam cư trú ở trong nước.", fee)
    assert not _repeats("Người thuộc hộ nghèo, người khuyết tật được miễn lệ phí.", fee)
