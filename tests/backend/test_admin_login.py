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


def test_the_admin_is_for_superusers_only(client, world):
    """Issue 17.10: the admin is not scoped by area, so staff (a grid worker, a community
    admin, even with is_staff) cannot log in to it nor use a session they already have."""
    from community.models import User

    for user in (world.worker_a1, world.admin_a):
        User.objects.filter(pk=user.pk).update(is_staff=True)
        response = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": "pw-for-tests-123"})
        assert response.status_code == 200 and "superusers only" in response.content.decode()
        client.force_login(User.objects.get(pk=user.pk))
        assert client.get("/admin/").status_code == 302  # back to the login page
        assert client.get("/admin/community/user/").status_code == 302
        client.logout()
    root = User.objects.create_superuser(username="root", password="pw-for-tests-123")
    client.force_login(root)
    index = client.get("/admin/")
    assert index.status_code == 200
    page = index.content.decode()
    for plural in ("Mode switches", "Service activities", "Geocode cache entries", "Task supplies", "Inbound SMS"):
        assert plural in page, plural
    for wrong in ("switchs", "activitys", "entrys", "supplys", "smss"):
        assert wrong not in page.lower(), wrong
