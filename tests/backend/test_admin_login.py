"""The admin's login is rate-limited like the API's password login."""

import pytest

pytestmark = pytest.mark.django_db


def test_guessing_an_admin_password_is_rate_limited(client, world, settings):
    settings.LOGIN_PASSWORD_PER_USER_PER_HOUR = 3
    for i in range(3):
        response = client.post("/admin/login/", {"username": "admin_a", "password": f"guess-{i}"})
        assert response.status_code == 200  # the form again, with its error
    refused = client.post("/admin/login/", {"username": "admin_a", "password": "pw-for-tests-123"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert client.get("/admin/login/").status_code == 200  # the page itself is not limited


def test_a_superuser_still_logs_in(client, world, settings):
    from community.models import User

    User.objects.create_superuser(username="root", password="pw-for-tests-123")
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": "pw-for-tests-123"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
