"""The after-action report's sections on supplies, shelters and incoming warnings (issue 20),
as GraphQL types; schema.emergency.review_types adds them to the report."""

from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar

from ..resources.types import FacilityType, SupplyItemType
from .warning_types import IncomingWarningType, WarningProposalType


class SupplyLineType(graphene.ObjectType):
    class Meta:
        name = "SupplyReviewLine"

    item = graphene.Field(SupplyItemType, required=True)
    received = graphene.Int(required=True)
    issued = graphene.Int(required=True)
    distributed = graphene.Int(required=True)
    by_tasks = graphene.Int(required=True, description="Of distributed: delivered by tasks.")
    transferred_in = graphene.Int(required=True)
    transferred_out = graphene.Int(required=True)
    adjusted = graphene.Int(required=True, description="Net correction after counts.")
    households = graphene.Int(required=True, description="Households it was distributed to.")


class SuppliesReviewType(graphene.ObjectType):
    class Meta:
        name = "SuppliesReview"

    items = graphene.List(graphene.NonNull(SupplyLineType), required=True)
    households_reached = graphene.Int(required=True)
    task_deliveries = graphene.Int(required=True, description="Task supply lines distributed (tasks done).")
    units_distributed = graphene.Int(required=True)

    @staticmethod
    def build(review) -> SuppliesReviewType:
        return SuppliesReviewType(items=[SupplyLineType(**vars(line)) for line in review.items],
                                  households_reached=review.households_reached, task_deliveries=review.task_deliveries,
                                  units_distributed=review.units_distributed)


class OccupancyPoint(graphene.ObjectType):
    at = graphene.DateTime(required=True)
    occupancy = graphene.Int(required=True)


class ShelterReviewType(graphene.ObjectType):
    class Meta:
        name = "ShelterReview"

    facility = graphene.Field(FacilityType, required=True)
    capacity = graphene.Int(required=True)
    at_start = graphene.Int(required=True)
    peak = graphene.Int(required=True)
    at_end = graphene.Int(required=True)
    check_ins = graphene.Int(required=True)
    vulnerable_check_ins = graphene.Int(required=True)
    curve = graphene.List(graphene.NonNull(OccupancyPoint), required=True, description="Occupancy after each change.")

    @staticmethod
    def build(r) -> ShelterReviewType:
        return ShelterReviewType(facility=r.facility, capacity=r.capacity, at_start=r.at_start, peak=r.peak, at_end=r.at_end,
                                 check_ins=r.check_ins, vulnerable_check_ins=r.vulnerable_check_ins,
                                 curve=[OccupancyPoint(at=at, occupancy=n) for at, n in r.curve])


class WarningReviewEntry(graphene.ObjectType):
    warning = graphene.Field(IncomingWarningType, required=True)
    areas = graphene.List(graphene.NonNull(graphene.String), required=True)
    proposals = graphene.List(graphene.NonNull(WarningProposalType), required=True)


class WarningsReviewType(graphene.ObjectType):
    class Meta:
        name = "WarningsReview"

    received = graphene.Int(required=True)
    by_severity = GenericScalar(required=True, description='{"Severe": 2, ...}')
    proposals = graphene.Int(required=True)
    accepted = graphene.Int(required=True)
    declined = graphene.Int(required=True)
    auto_switched = graphene.Int(required=True)
    pending = graphene.Int(required=True)
    closed_undecided = graphene.Int(required=True, description="Superseded, cancelled or expired before a decision.")
    median_seconds_to_decide = graphene.Float(description="From the warning's arrival to the commander's decision.")
    max_seconds_to_decide = graphene.Float()
    entries = graphene.List(graphene.NonNull(WarningReviewEntry), required=True)

    @staticmethod
    def build(w) -> WarningsReviewType:
        values = {k: v for k, v in vars(w).items() if k != "entries"}
        return WarningsReviewType(**values, entries=[
            WarningReviewEntry(warning=e.warning, areas=e.areas, proposals=e.proposals) for e in w.entries])
