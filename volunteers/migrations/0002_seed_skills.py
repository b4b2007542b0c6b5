"""Seed the managed list of skills. Administrators edit it afterwards in the admin."""

from django.db import migrations

SKILLS = [
    # code, 中文, English, requires a certificate
    ("first_aid", "急救", "First aid", True),
    ("medical", "医疗", "Medical", True),
    ("driving", "驾驶", "Driving", True),
    ("boat", "驾船", "Boat handling", True),
    ("elderly_care", "照护老人", "Elderly care", False),
    ("translation", "翻译", "Translation", False),
    ("heavy_lifting", "体力搬运", "Heavy lifting", False),
    ("electrician", "电工", "Electrician", True),
    ("psychological_support", "心理疏导", "Psychological support", False),
    ("search_and_rescue", "搜索救援", "Search and rescue", True),
    ("cooking", "烹饪", "Cooking", False),
]


def seed(apps, schema_editor):
    Skill = apps.get_model("volunteers", "Skill")
    for order, (code, zh, en, cert) in enumerate(SKILLS):
        Skill.objects.update_or_create(
            code=code,
            defaults={"name_zh": zh, "name_en": en, "requires_certificate": cert, "sort_order": (order + 1) * 10},
        )


def unseed(apps, schema_editor):
    apps.get_model("volunteers", "Skill").objects.filter(code__in=[s[0] for s in SKILLS]).delete()


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
