"""The start-up banner prints every URL the README's table lists, and each is served
(issue 17.10)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from backend.management.commands.serve import banner

pytestmark = pytest.mark.django_db


def readme_urls() -> list[str]:
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    table = readme.split("It prints:", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"\| ((?:https?|wss?)://127\.0\.0\.1:8000/\S*) \|", table)


def test_the_banner_prints_every_url_the_readme_lists(client):
    urls = readme_urls()
    assert len(urls) >= 6
    printed = banner("127.0.0.1", 8000, embedded=True)
    assert [url for url in urls if url not in printed] == []
    printed_urls = re.findall(r"(?:https?|wss?)://\S+", printed)
    assert sorted(set(printed_urls)) == sorted(set(urls))  # and nothing the README does not list
    for url in urls:
        if url.startswith("http"):
            path = url.split("127.0.0.1:8000", 1)[1]
            status = client.get(path, HTTP_ACCEPT="text/html").status_code
            assert status in (200, 302), (url, status)
