"""Linli templates -> approved provider templates (notifications/transports/provider_templates.py)."""

from __future__ import annotations

import string

import pytest

from notifications.templates import _templates, get_template
from notifications.transports.base import OutgoingSms, TransportError
from notifications.transports.provider_templates import (
    SMS_TEMPLATE_PARAMS,
    choose_template,
    clean_value,
    cut,
    provider_entries,
)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def message(template: str = "emergency.mobilise.standby.sms", *, language: str = "zh-hans", is_drill: bool = False,
            **params: str) -> OutgoingSms:
    values = {"area": "东湖社区", "mode": "应急", "mode_en": "EMERGENCY", "message": "带好雨具", **params}
    return OutgoingSms(1, "+8613900000001", "x", template, values, language=language, is_drill=is_drill)


def choose(msg: OutgoingSms, limit: int = 35):
    return choose_template("aliyun", msg, sign="邻里", default_limit=limit)


def test_every_template_that_can_go_by_sms_has_a_default_entry():
    sms_names = {n for n in _templates if n.endswith(".sms") or n.startswith("sms.") or n == "login.code"}

    assert sms_names == set(SMS_TEMPLATE_PARAMS)


@pytest.mark.parametrize("name", sorted(SMS_TEMPLATE_PARAMS))
def test_default_variables_are_the_linli_templates_own(name):
    zh, en = SMS_TEMPLATE_PARAMS[name]
    template = get_template(name)

    assert set(zh) == fields(template.zh)
    assert set(en or zh) == fields(template.en)


def test_codes_from_the_environment_keep_the_default_variables(settings):
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"emergency.mobilise.standby.sms": {"zh-hans": "SMS_1", "en": "SMS_2"}}}

    zh, en = choose(message()), choose(message(language="en"))

    assert (zh.code, [k for k, _ in zh.values]) == ("SMS_1", ["area", "mode", "message"])
    assert (en.code, dict(en.values)["mode_en"]) == ("SMS_2", "EMERGENCY")
    assert provider_entries("aliyun")["login.code"]["params"] == ["code", "minutes"]


def test_english_without_its_own_template_goes_out_with_the_chinese_one(settings):
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"emergency.mobilise.standby.sms": {"zh-hans": "SMS_1"}}}

    assert choose(message(language="en")).code == "SMS_1"


def test_a_drill_is_never_sent_without_its_drill_template(settings):
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"emergency.mobilise.standby.sms": {"zh-hans": "SMS_1"}}}

    with pytest.raises(TransportError) as refused:
        choose(message(is_drill=True))

    assert (refused.value.code, refused.value.permanent) == ("no_template", True)


def test_a_drill_template_borrows_the_variables_of_its_language(settings):
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"emergency.mobilise.standby.sms": {"en.drill": {"template": "SMS_9"}}}}

    chosen = choose(message(language="en", is_drill=True))

    assert chosen.code == "SMS_9" and "mode_en" in dict(chosen.values)


def test_named_variables_limits_signs_and_empty_values_can_be_configured(settings):
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"emergency.mobilise.standby.sms": {
        "zh-hans": {"template": "SMS_1", "sign": "东湖社区"}, "params": {"place": "area", "note": "message"},
        "limits": {"area": 3}, "if_empty": {"message": "无"}}}}

    chosen = choose(message(message=""))

    assert chosen.sign == "东湖社区" and chosen.named() == {"place": "东湖…", "note": "无"}


def test_a_provider_wide_limit_applies_to_every_variable(settings):
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"*": {"limits": {"*": 4}},
                                                  "emergency.mobilise.standby.sms": {"zh-hans": "SMS_1"}}}

    assert choose(message(message="请带好雨具和手电")).named()["message"] == "请带好…"


def test_a_mapping_that_names_a_missing_variable_is_permanent(settings):
    settings.SMS_PROVIDER_TEMPLATES = {"aliyun": {"emergency.mobilise.standby.sms": {
        "zh-hans": "SMS_1", "params": ["area", "street"]}}}

    with pytest.raises(TransportError) as refused:
        choose(message())

    assert refused.value.code == "template_params" and refused.value.permanent


def test_staff_text_is_folded_to_one_line_without_the_signs_brackets():
    assert clean_value("【紧急】 请\n\n立即\t撤离\x00 ") == "〔紧急〕 请 立即 撤离"


def test_cutting_adds_an_ellipsis_but_never_cuts_through_a_reply_code():
    assert cut("东湖社区三号楼", 5) == "东湖社区…"
    assert cut("AB CD EF", 6, whole_words=True) == "AB CD"
    assert cut("短", 6) == "短"
