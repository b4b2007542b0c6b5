"""own_answer_row — the answerer's own status row as one prepared statement (issue 19: the
ORM compiled the same joined query on every answer) — loads what answer_rows() loads: every
field of the row, its check and its resident, with their database converters applied (JSON,
phone numbers, aware datetimes), and the key's earlier answer; nobody else's row."""

import pytest

from emergency.models import SafetyStatus
from emergency.safety import start_safety_check
from emergency.safety_answers import answer_rows, answer_safety_check, own_answer_row

from .emergency_support import _emergency_isolation, resident, run_jobs  # noqa: F401

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_it_loads_what_the_orm_loads_and_the_keys_answer(world, django_assert_num_queries):
    me = resident(world.grid_a1, "张用App", app=True)
    other = resident(world.grid_a1, "李邻居", app=True)
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    run_jobs()
    expected = answer_rows(by=me.user, client_key="k1").get(safety_check=check, resident=me)
    with django_assert_num_queries(1):
        row = own_answer_row(me.user, check.pk, "k1")
        assert _fields(row.safety_check) == _fields(expected.safety_check)  # cached: no query
        assert _fields(row.resident) == _fields(expected.resident)
    assert _fields(row) == _fields(expected) and row.keyed_answer_id is None
    assert row.resident.pk == me.pk and row.resident.pk != other.pk
    assert row.safety_check.started_at.tzinfo is not None and isinstance(row.safety_check.fanout_counts, dict)
    assert not row._state.adding and row._state.db == "default"

    answered = answer_safety_check(row, "SAFE", by=me.user, channel="APP", client_key="k1")
    again = own_answer_row(me.user, check.pk, "k1")
    assert again.keyed_answer_id == answered.answer.pk and again.status == "SAFE" and again.version == 1
    assert own_answer_row(me.user, check.pk, "k2").keyed_answer_id is None
    assert own_answer_row(me.user, check.pk, "").keyed_answer_id is None


def test_nobody_elses_row_and_no_row_outside_the_check(world):
    me = resident(world.grid_a1, "张用App", app=True)
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    run_jobs()
    assert own_answer_row(world.admin_a, check.pk, "k1") is None  # staff: no resident row of their own
    assert own_answer_row(me.user, check.pk + 1000, "k1") is None
    assert SafetyStatus.objects.filter(safety_check=check, resident=me).count() == 1
