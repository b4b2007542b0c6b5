"""What the calls say: the safety check in Chinese and English, drills announced, variables
kept short enough to listen to."""

from __future__ import annotations

import pytest

from notifications.templates import TemplateError
from notifications.voice import register_voice_script, render_script
from notifications.voice.texts import SAFETY_CHECK

PARAMS = {"area": "湖滨街道", "title": "台风报平安"}


def test_the_safety_check_asks_for_one_key_in_chinese():
    assert render_script(SAFETY_CHECK, PARAMS, "zh-hans") == (
        "这里是湖滨街道社区应急平台。台风报平安。您是否平安？平安请按1，需要帮助请按2。")


def test_the_safety_check_in_english():
    assert render_script(SAFETY_CHECK, PARAMS, "en-GB") == (
        "This is the 湖滨街道 community emergency service. 台风报平安. Are you safe? "
        "If you are safe, press 1. If you need help, press 2.")


def test_a_drill_is_announced_first():
    assert render_script(SAFETY_CHECK, PARAMS, "zh-hans", is_drill=True).startswith("这是一次演练。这里是湖滨街道")
    assert render_script(SAFETY_CHECK, PARAMS, "en", is_drill=True).startswith("This is a drill. This is the")


def test_a_missing_variable_is_an_error_not_a_silent_gap():
    with pytest.raises(TemplateError, match="needs"):
        render_script(SAFETY_CHECK, {"area": "湖滨街道"})


def test_long_or_dirty_variables_are_cut_and_cleaned(settings):
    settings.VOICE_PARAM_MAX_CHARS = 6
    text = render_script(SAFETY_CHECK, {"area": "湖滨\x00街道\n\n", "title": "台风来了请大家注意安全"})
    assert text.startswith("这里是湖滨 街道社区应急平台。台风来了请大。")


def test_the_answers_and_the_goodbye_exist_in_both_languages():
    for name in ("voice.answer.safe", "voice.answer.help", "voice.answer.other", "voice.no_key"):
        assert render_script(name, {}, "zh-hans") and render_script(name, {}, "en")


def test_only_plain_variables_may_be_registered():
    with pytest.raises(TemplateError):
        register_voice_script("test.bad", zh="{a.b}", en="{a}")
