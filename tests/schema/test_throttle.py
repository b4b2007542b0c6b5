"""Floods are refused per user and per address with RATE_LIMITED and a retry time, change
nothing, and never slow down anyone else."""

import pytest

from community.models import ResidentReport
from schema.community.mutations.reports import SubmitReport
from tests.operations import operation

pytestmark = pytest.mark.django_db

SUBMIT = operation("community/SubmitReport")


def report(gql, user, world, n: int, **headers):
    variables = {"kind": "HAZARD", "description": f"井盖缺失 {n}",
                 "location": {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}}
    return gql(SUBMIT, variables, user=user, headers=headers)


def test_a_flood_from_one_user_is_refused_and_writes_nothing(world, gql):
    limit = SubmitReport._meta.throttle.per_user
    for n in range(limit):
        assert report(gql, world.resident, world, n)[1]["data"]["submitReport"]["errors"] == []
    status, body = report(gql, world.resident, world, limit)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] >= 1
    assert body["data"]["submitReport"] is None
    assert ResidentReport.objects.count() == limit
    # Someone else is not affected.
    assert report(gql, world.other_resident, world, 99)[1]["data"]["submitReport"]["errors"] == []


def test_a_flood_from_one_address_is_refused_for_that_address_only(world, gql, settings):
    settings.THROTTLE_PER_ADDRESS_PER_MINUTE = 2
    for n, who in enumerate((world.resident, world.other_resident)):
        assert report(gql, who, world, n, REMOTE_ADDR="10.1.1.1")[1]["data"]["submitReport"]["errors"] == []
    status, body = report(gql, world.worker_a1, world, 9, REMOTE_ADDR="10.1.1.1")
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert report(gql, world.worker_a1, world, 10, REMOTE_ADDR="10.2.2.2")[1]["data"]["submitReport"]["errors"] == []


@pytest.mark.parametrize("field", ["answerSafetyCheck", "submitReport", "checkInToActivity", "checkInOnSite"])
def test_flood_prone_mutations_are_throttled_per_user_and_address(field):
    from schema.schema import schema

    mutation = schema.graphql_schema.mutation_type.fields[field].type.graphene_type
    assert mutation._meta.throttle is not None and mutation._meta.throttle.per_user <= 30
