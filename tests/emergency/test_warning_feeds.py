"""Polling a CAP feed (a fake warning system on loopback, spoken to by the real `requests`):
new entries are fetched and ingested once, an unchanged feed costs a 304 (ETag and
If-Modified-Since), an invalid document is named and skipped, a failing document or feed
keeps the feed's validators so nothing is missed, and failing feeds back off."""

import datetime as dt

import pytest
from django.utils import timezone

from emergency.models import IncomingWarning, WarningProposal, WarningSource
from emergency.tasks import poll_warning_feeds
from emergency.warnings.feeds import poll_due_feeds, poll_source
from tests.fake_cap_feed import fake_cap_feed  # noqa: F401

from .cap_documents import cap
from .emergency_support import _emergency_isolation  # noqa: F401

pytestmark = pytest.mark.django_db

AROUND_A = "30.270000,120.150000 2"


@pytest.fixture
def feed_source(fake_cap_feed):  # noqa: F811 - the fixture imported above
    return WarningSource.objects.create(code="cma", name="市气象台", kind="CAP_FEED", url=f"{fake_cap_feed.base_url}/feed.atom",
                                        poll_seconds=120)


def test_new_entries_are_taken_once_and_an_unchanged_feed_answers_304(world, fake_cap_feed, feed_source):  # noqa: F811
    fake_cap_feed.publish("cma-1", cap("cma-1", circle=AROUND_A))
    fake_cap_feed.publish("cma-2", cap("cma-2", circle="30.29,120.17 1"))
    first = poll_source(feed_source)
    assert (first.status, first.taken, first.rejected, first.error) == (200, 2, [], "")
    assert set(IncomingWarning.objects.values_list("identifier", flat=True)) == {"cma-1", "cma-2"}
    assert WarningProposal.objects.count() == 2
    feed_source.refresh_from_db()
    assert feed_source.etag == fake_cap_feed.etag() and feed_source.last_modified.endswith("GMT")

    second = poll_source(feed_source)
    assert second.not_modified and second.status == 304
    sent = fake_cap_feed.hits("/feed.atom")[-1]
    assert sent["If-None-Match"] == feed_source.etag and sent["If-Modified-Since"] == feed_source.last_modified

    fake_cap_feed.publish("cma-3", cap("cma-3", circle=AROUND_A, severity="Extreme"))
    third = poll_source(feed_source)
    assert third.taken == 1 and len(fake_cap_feed.hits("/alerts/cma-1.xml")) == 1  # known entries are not fetched again
    assert IncomingWarning.objects.count() == 3


def test_an_invalid_document_in_the_feed_is_named_and_skipped(world, fake_cap_feed, feed_source):  # noqa: F811
    fake_cap_feed.publish("bad", cap("bad", circle=AROUND_A, urgency="Yesterday"))
    fake_cap_feed.publish("good", cap("good", circle=AROUND_A))
    result = poll_source(feed_source)
    assert result.taken == 1 and len(result.rejected) == 1 and "/alerts/bad.xml" in result.rejected[0]
    feed_source.refresh_from_db()
    assert "bad.xml" in feed_source.last_error and feed_source.failures == 0
    assert list(IncomingWarning.objects.values_list("identifier", flat=True)) == ["good"]


def test_a_document_that_fails_to_load_keeps_the_validators_so_it_is_fetched_next_time(world, fake_cap_feed, feed_source):  # noqa: F811
    fake_cap_feed.publish("late", cap("late", circle=AROUND_A))
    fake_cap_feed.fail("/alerts/late.xml", 503)
    failed = poll_source(feed_source)
    feed_source.refresh_from_db()
    assert failed.failed and feed_source.etag == "" and feed_source.failures == 1
    assert feed_source.next_poll_at - feed_source.last_polled_at == dt.timedelta(seconds=240)  # backed off
    fake_cap_feed.failures.clear()
    again = poll_source(feed_source)
    assert again.status == 200 and again.taken == 1 and IncomingWarning.objects.get().identifier == "late"


def test_a_feed_that_is_down_or_not_xml_is_recorded_and_retried_later(world, fake_cap_feed, feed_source):  # noqa: F811
    fake_cap_feed.fail("/feed.atom", 500)
    down = poll_source(feed_source)
    assert down.error == "HTTP 500" and not IncomingWarning.objects.exists()
    fake_cap_feed.failures.clear()
    fake_cap_feed.raw_feed = b"<html>maintenance"
    garbled = poll_source(feed_source)
    assert garbled.error.startswith("the feed is not XML")
    feed_source.refresh_from_db()
    assert feed_source.failures == 2


def test_a_feed_that_is_itself_one_cap_document_is_taken_directly(world, fake_cap_feed, feed_source):  # noqa: F811
    fake_cap_feed.raw_feed = cap("single", circle=AROUND_A)
    assert poll_source(feed_source).taken == 1 and IncomingWarning.objects.get().entry_url == feed_source.url


def test_the_periodic_task_polls_only_feeds_that_are_due(world, fake_cap_feed, feed_source):  # noqa: F811
    fake_cap_feed.publish("cma-9", cap("cma-9", circle=AROUND_A))
    WarningSource.objects.create(code="off", name="停用", kind="CAP_FEED", url=feed_source.url, is_enabled=False)
    assert poll_warning_feeds() == {"cma": 1}
    assert poll_due_feeds() == {}  # not due again before its interval
    WarningSource.objects.filter(pk=feed_source.pk).update(next_poll_at=timezone.now() - dt.timedelta(seconds=1))
    assert poll_due_feeds()["cma"].not_modified
