"""Care notes are encrypted at rest (Fernet), read in the clear through the API by those who
may, and re-encrypted under a new key by rotate_pii_keys."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from graphql_relay import to_global_id

from community.models import Resident
from tests.operations import operation

pytestmark = pytest.mark.django_db
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw_care_notes(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT care_notes FROM {Resident._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def register(gql, world, notes="卧床，需要两人搬运"):
    variables = {"input": {"displayName": "孙大爷", "reducedMobility": True, "careNotes": notes},
                 "gridId": to_global_id("Area", world.grid_a1.pk), "legalBasis": "STATUTORY_DUTY"}
    return gql.data(operation("community/RegisterResident"), variables, user=world.worker_a1)["registerResident"]["resident"]


def test_care_notes_are_a_token_in_the_database_and_text_through_the_api(world, gql):
    made = register(gql, world)
    pk = Resident.objects.get(display_name="孙大爷").pk
    stored = raw_care_notes(pk)
    assert stored.startswith("gAAAAA") and "卧床" not in stored
    seen = gql.data(operation("community/Resident"), {"id": made["id"]}, user=world.admin_a)["resident"]
    assert seen["careNotes"] == "卧床，需要两人搬运"


def test_rotation_re_encrypts_under_the_new_key_and_the_old_key_can_then_go(world, gql, settings):
    settings.PII_ENCRYPTION_KEYS = [OLD]
    made = register(gql, world)
    pk = Resident.objects.get(display_name="孙大爷").pk
    assert Fernet(OLD.encode()).decrypt(raw_care_notes(pk).encode()).decode() == "卧床，需要两人搬运"
    settings.PII_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_pii_keys")
    assert Fernet(NEW.encode()).decrypt(raw_care_notes(pk).encode()).decode() == "卧床，需要两人搬运"
    settings.PII_ENCRYPTION_KEYS = [NEW]
    seen = gql.data(operation("community/Resident"), {"id": made["id"]}, user=world.worker_a1)["resident"]
    assert seen["careNotes"] == "卧床，需要两人搬运"


def test_a_row_written_before_encryption_reads_as_it_is_and_is_encrypted_when_written(world, gql, make_resident):
    resident = make_resident(world.grid_a1, "老记录")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Resident._meta.db_table} SET care_notes = %s WHERE id = %s", ["旧的明文备注", resident.pk])
    assert Resident.objects.get(pk=resident.pk).care_notes == "旧的明文备注"
    call_command("rotate_pii_keys")
    assert raw_care_notes(resident.pk).startswith("gAAAAA")
    assert Resident.objects.get(pk=resident.pk).care_notes == "旧的明文备注"


def test_an_emergency_contact_s_number_is_encrypted_and_found_by_its_keyed_hash(world, gql, people):
    from community.models import EmergencyContact
    from privacy.crypto import blind_index

    contact = EmergencyContact.objects.get(resident=people["me"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone, phone_hash FROM {EmergencyContact._meta.db_table} WHERE id = %s", [contact.pk])
        stored, digest = cursor.fetchone()
    assert stored.startswith("gAAAAA") and "13700000009" not in stored
    assert digest == blind_index("+8613700000009") and "13700000009" not in digest
    assert EmergencyContact.objects.get(phone_hash=blind_index("+8613700000009")).pk == contact.pk
    seen = gql.data(operation("community/MyResidentProfile"), user=world.resident)["myResidentProfile"]
    assert seen["emergencyContacts"][0]["phone"] == "+8613700000009"
