"""Phone-login accounts used to be named after the number ("p8613812345678"); the username
travels in every access token and is shown where a name is missing, so rename them to an
opaque "u-<hex>". Staff usernames are untouched."""

import re
import secrets

from django.db import migrations

OLD = re.compile(r"^p\d{6,}(-[0-9a-f]+)?$")


def rename(apps, schema_editor):
    User = apps.get_model("community", "User")
    for user in User.objects.filter(username__regex=r"^p[0-9]{6,}").only("pk", "username").iterator():
        if OLD.match(user.username):
            User.objects.filter(pk=user.pk).update(username=f"u-{secrets.token_hex(8)}")


class Migration(migrations.Migration):
    dependencies = [("community", "0003_emergency")]

    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
