"""Resident-facing text: Chinese by default, English on request, drills marked, SMS kept
within its segments by shortening the variable parts only."""

import pytest

from notifications.templates import (
    TemplateError,
    register_template,
    render,
    segment_count,
    units,
)

register_template(
    "test.offer",
    zh="【邻里】{place}需要志愿者：{task}。回复 是 {code} 接受，否 {code} 拒绝。",
    en="Linli: volunteers needed at {place}: {task}. Reply Y {code} to accept, N {code} to decline.",
    max_segments=1,
)


def test_chinese_is_the_default_language():
    text = render("test.offer", {"place": "甲一网格", "task": "送药", "code": "AB"})
    assert text == "【邻里】甲一网格需要志愿者：送药。回复 是 AB 接受，否 AB 拒绝。"


def test_english_on_request():
    text = render("test.offer", {"place": "Grid A1", "task": "medicine", "code": "AB"}, language="en")
    assert text.startswith("Linli: volunteers needed at Grid A1")


def test_drill_messages_carry_a_visible_marker_in_each_language():
    assert render("test.offer", {"place": "甲", "task": "乙", "code": "AB"}, is_drill=True).startswith("【演练】")
    assert render("test.offer", {"place": "A", "task": "B", "code": "AB"}, language="en", is_drill=True).startswith("[DRILL] ")


def test_long_chinese_text_is_shortened_to_fit_but_keeps_code_and_marker():
    text = render("test.offer", {"place": "很长的地名" * 20, "task": "搬运物资" * 20, "code": "XY"}, is_drill=True)
    assert segment_count(text) == 1 and units(text) <= 70
    assert text.startswith("【演练】")
    assert text.count("XY") == 2
    assert "…" in text


def test_long_english_text_stays_gsm7_within_160():
    text = render("test.offer", {"place": "Riverside " * 30, "task": "carry water " * 30, "code": "XY"}, language="en")
    assert units(text) <= 160
    assert text.count("XY") == 2 and "..." in text


def test_text_that_fits_is_not_touched():
    text = render("test.offer", {"place": "甲", "task": "乙", "code": "AB"})
    assert "…" not in text


def test_push_text_has_no_length_limit():
    text = render("test.offer", {"place": "很长" * 100, "task": "乙", "code": "AB"}, sms=False)
    assert "很长" * 100 in text


def test_segments_follow_ucs2_and_gsm7_limits():
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("中" * 70) == 1
    assert segment_count("中" * 71) == 2
    assert segment_count("中" * 134) == 2
    assert segment_count("中" * 135) == 3
    assert units("{}") == 4  # GSM-7 extension characters count twice


def test_a_missing_variable_is_a_programming_error():
    with pytest.raises(TemplateError):
        render("test.offer", {"place": "甲"})


def test_templates_whose_fixed_text_cannot_fit_are_refused_at_registration():
    with pytest.raises(TemplateError):
        register_template("test.too_long", zh="长" * 80 + "{x}", en="x{x}", max_segments=1)


def test_only_plain_names_are_allowed_in_templates():
    with pytest.raises(TemplateError):
        register_template("test.attr", zh="{user.password}", en="{x}")
