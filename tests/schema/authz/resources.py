"""The matrix for what comes before and during (issue 20): facilities and shelter check-ins,
supplies and stock, emergency teams and team offers, warnings that come in and sensors. The
rows they aim at are made by world._build_resources (side A: community 甲)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from .matrix import (
    ABSENT,
    EMPTY,
    FORBID,
    MASKED,
    UNAUTH,
    Entry,
    community_admin_refusals,
    done,
    sees,
    shows,
)
from .world import A_POINT

PUBLIC = {
    "Query.supplyItems": "the supplies catalogue: item names and units, the same for everyone signed in (like skills)",
}


def _stocktake() -> SimpleUploadedFile:
    book = Workbook()
    book.active.append(["仓库编码", "物资编码", "库存"])
    book.active.append(["authz-a-store", "authz-water", 29])
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("盘点.xlsx", buffer.getvalue())


def _stock(w, **more) -> dict:
    return {"warehouseId": w.gid("store"), "itemId": w.gid("item"), **more}


FACILITY_INPUT = {"code": "authz-new", "kind": "SHELTER", "name": "新避难场所", "capacity": 10,
                  "location": {"latitude": A_POINT[0], "longitude": A_POINT[1]}}

FACILITIES = [
    Entry("Query.facilities", "resources/Facilities", lambda w: {"areaId": w.gid("com_a")},
          allowed={"admin": shows("李建国"), "worker": shows("李建国"), "volunteer": shows("李建国")},
          refused={"anonymous": UNAUTH, "resident": MASKED, "other_resident": MASKED, "worker_other_community": MASKED,
                   "admin_other": MASKED},
          secrets=("stays",)),
    Entry("Query.facilities", "resources/Facilities", lambda w: {"areaId": w.gid("com_a"), "status": "CLOSED"},
          variant="(closed ones)", allowed={"admin": sees("shelter_closed")},
          refused={"anonymous": UNAUTH, "resident": EMPTY, "admin_other": EMPTY, "worker_other_community": EMPTY},
          secrets=("closed_shelter",)),
    Entry("Query.nearestOpenShelters", "resources/NearestOpenShelters",
          lambda w: {"location": {"latitude": A_POINT[0], "longitude": A_POINT[1]}, "radiusM": 2000},
          allowed={"resident": sees("shelter"), "volunteer": sees("shelter")},
          refused={"anonymous": UNAUTH, "stranger": ABSENT, "other_resident": ABSENT},
          secrets=("closed_shelter",)),
    Entry("Query.householdsForCheckIn", "resources/HouseholdsForCheckIn", lambda w: {"facilityId": w.gid("shelter"), "search": "王"},
          allowed={"worker": shows("1幢101-甲"), "volunteer": shows("1幢101-甲"), "admin": shows("1幢101-甲")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "resident": FORBID, "worker_other_community": FORBID,
                   "admin_other": FORBID},
          secrets=("household",)),
    Entry("Mutation.saveFacility", "resources/SaveFacility", lambda w: {"input": {**FACILITY_INPUT, "areaId": w.gid("com_a")}},
          allowed={"admin": done("facility"), "commander": done("facility")}, refused=community_admin_refusals()),
    Entry("Mutation.setFacilityStatus", "resources/SetFacilityStatus",
          lambda w: {"facilityId": w.gid("shelter_closed"), "status": "OPEN"},
          allowed={"admin": done("facility"), "commander": done("facility")}, refused=community_admin_refusals()),
    Entry("Mutation.checkInToShelter", "resources/CheckInToShelter", lambda w: {"facilityId": w.gid("shelter"), "walkIns": ["路人甲"]},
          allowed={"worker": done("stays"), "volunteer": done("stays"), "admin": done("stays")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "resident": FORBID, "pending_volunteer": FORBID,
                   "suspended_volunteer": FORBID, "worker_other_community": FORBID, "admin_other": FORBID},
          ),
    Entry("Mutation.checkOutOfShelter", "resources/CheckOutOfShelter",
          lambda w: {"facilityId": w.gid("shelter"), "householdId": w.gid("home")},
          allowed={"worker": done("facility"), "admin": done("facility")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "worker_other_community": FORBID, "admin_other": FORBID},
          secrets=("stays",)),
]

SUPPLIES = [
    Entry("Query.warehouses", """query Warehouses($areaId: ID) { warehouses(areaId: $areaId) { totalCount edges { node { id name } } } }""",
          lambda w: {"areaId": w.gid("com_a")},
          allowed={"admin": sees("store"), "commander": sees("store")},
          refused={"anonymous": UNAUTH, "resident": EMPTY, "worker": EMPTY, "worker_other_community": EMPTY,
                   "admin_other": EMPTY},
          secrets=("store",)),
    Entry("Query.stock", "resources/Stock", lambda w: {"areaId": w.gid("com_a")},
          allowed={"admin": sees("stock"), "commander": sees("stock")},
          refused={"anonymous": UNAUTH, "resident": EMPTY, "worker": EMPTY, "admin_other": EMPTY, "worker_other_community": EMPTY},
          secrets=("store",)),
    Entry("Query.stockMovements", "resources/StockMovements", lambda w: {"warehouseId": w.gid("store")},
          allowed={"admin": shows("甲社区入库-秘密"), "commander": shows("甲社区入库-秘密")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "worker": FORBID, "admin_other": FORBID,
                   "worker_other_community": FORBID},
          secrets=("store",)),
    Entry("Query.distributionList", "resources/DistributionList", lambda w: {"areaId": w.gid("com_a")},
          allowed={"admin": shows("1幢101-甲"), "commander": shows("1幢101-甲")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "worker": FORBID, "admin_other": FORBID,
                   "worker_other_community": FORBID},
          secrets=("household",)),
    Entry("Mutation.saveSupplyItem", "resources/SaveSupplyItem", lambda w: {"input": {"code": "authz-tent", "name": "帐篷", "unit": "顶"}},
          allowed={"commander": done("item")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "worker": FORBID, "admin": FORBID, "admin_other": FORBID}),
    Entry("Mutation.saveWarehouse", "resources/SaveWarehouse",
          lambda w: {"areaId": w.gid("com_a"), "code": "authz-a-store-2", "name": "甲社区二号仓库"},
          allowed={"admin": done("warehouse"), "commander": done("warehouse")}, refused=community_admin_refusals()),
    Entry("Mutation.receiveStock", "resources/ReceiveStock", lambda w: _stock(w, quantity=5),
          allowed={"admin": done("movement"), "commander": done("movement")}, refused=community_admin_refusals()),
    Entry("Mutation.issueStock", "resources/IssueStock", lambda w: _stock(w, quantity=1, reason="送救援队"),
          allowed={"admin": done("movement")}, refused=community_admin_refusals()),
    Entry("Mutation.distributeSupplies", "resources/DistributeSupplies", lambda w: _stock(w, quantity=1, householdId=w.gid("home")),
          allowed={"admin": done("movement")}, refused=community_admin_refusals()),
    Entry("Mutation.adjustStock", "resources/AdjustStock", lambda w: _stock(w, change=-1, reason="盘点破损"),
          allowed={"admin": done("movement")}, refused=community_admin_refusals()),
    Entry("Mutation.transferStock", "resources/TransferStock",
          lambda w: {"fromWarehouseId": w.gid("store"), "toWarehouseId": w.gid("store_b"), "itemId": w.gid("item"), "quantity": 1},
          allowed={"commander": done("out")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "worker": FORBID, "admin": FORBID, "admin_other": FORBID}),
    Entry("Mutation.setStockThreshold", "resources/SetStockThreshold", lambda w: _stock(w, threshold=5),
          allowed={"admin": done("stock")}, refused=community_admin_refusals()),
    Entry("Mutation.addTaskSupply", "resources/AddTaskSupply", lambda w: _stock(w, taskId=w.gid("task"), quantity=1),
          allowed={"admin": done("taskSupply"), "commander": done("taskSupply")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker": FORBID,
                   "worker_other_community": FORBID, "admin_other": FORBID}),
    Entry("Mutation.removeTaskSupply", "resources/RemoveTaskSupply", lambda w: {"taskSupplyId": w.gid("task_supply")},
          allowed={"worker": done("taskSupply"), "admin": done("taskSupply")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker_other_community": FORBID,
                   "admin_other": FORBID}),
    Entry("Mutation.importStock", "resources/ImportStock", lambda w: {"areaId": w.gid("com_a"), "dryRun": True},
          upload=_stocktake, allowed={"admin": done("report")}, refused=community_admin_refusals()),
    Entry("Mutation.exportStock", "resources/ExportStock", lambda w: {"areaId": w.gid("com_a")},
          allowed={"admin": done("file")}, refused=community_admin_refusals()),
]

TEAMS = [
    Entry("Query.teams", "volunteers/Teams", lambda w: {},
          allowed={"team_leader": shows("13600009001"), "admin": shows("13600009001")},
          refused={"anonymous": UNAUTH, "volunteer": EMPTY, "resident": EMPTY, "worker": EMPTY,
                   "admin_other": ABSENT, "worker_other_community": ABSENT, "commander": MASKED},
          secrets=("team",)),
    Entry("Mutation.saveTeam", "volunteers/SaveTeam",
          lambda w: {"input": {"areaId": w.gid("com_a"), "name": "甲社区民兵排", "kind": "MILITIA", "leaderId": w.gid("team_leader")}},
          allowed={"admin": done("team"), "commander": done("team")}, refused=community_admin_refusals()),
    Entry("Mutation.addTeamMember", "volunteers/AddTeamMember", lambda w: {"teamId": w.gid("team"), "name": "队员乙"},
          allowed={"admin": done("member")}, refused=community_admin_refusals(), secrets=("team",)),
    Entry("Mutation.removeTeamMember", "volunteers/RemoveTeamMember", lambda w: {"memberId": w.gid("member")},
          allowed={"admin": done("team")}, refused=community_admin_refusals(), secrets=("team",)),
    Entry("Mutation.setTeamDutyStatus", "volunteers/SetTeamDutyStatus", lambda w: {"teamId": w.gid("team"), "dutyStatus": "OFF_DUTY"},
          allowed={"team_leader": done("team"), "admin": done("team")},
          refused={"anonymous": UNAUTH, "volunteer": FORBID, "resident": FORBID, "worker": FORBID,
                   "worker_other_community": FORBID, "admin_other": FORBID}),
    Entry("Mutation.offerTaskToTeam", "tasks/OfferTaskToTeam", lambda w: {"taskId": w.gid("team_task_2"), "teamId": w.gid("team")},
          allowed={"admin": done("offer"), "commander": done("offer")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "worker_other_community": FORBID,
                   "admin_other": FORBID}),
    Entry("Mutation.respondToTeamOffer", "tasks/RespondToTeamOffer",
          lambda w: {"offerId": w.gid("team_offer"), "accept": True, "people": 2},
          allowed={"team_leader": done("offer")},
          refused={"anonymous": UNAUTH, "volunteer": FORBID, "resident": FORBID, "admin": FORBID,
                   "worker_other_community": FORBID}),
]

WARNINGS = [
    Entry("Query.incomingWarnings", "emergency/IncomingWarnings", lambda w: {},
          allowed={"admin": sees("warning"), "commander": sees("warning"), "worker": sees("warning")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "volunteer": FORBID, "admin_other": EMPTY,
                   "worker_other_community": EMPTY},
          secrets=("warning",)),
    Entry("Query.warningProposals", "emergency/WarningProposals", lambda w: {},
          allowed={"admin": sees("proposal"), "commander": sees("proposal")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "worker": EMPTY, "admin_other": EMPTY,
                   "worker_other_community": EMPTY},
          secrets=("warning",)),
    Entry("Query.sensors", "emergency/Sensors", lambda w: {},
          allowed={"admin": sees("sensor"), "commander": sees("sensor")},
          refused={"anonymous": UNAUTH, "resident": FORBID, "worker": EMPTY, "admin_other": EMPTY,
                   "worker_other_community": EMPTY},
          secrets=("sensor",)),
    Entry("Mutation.decideWarningProposal", "emergency/DecideWarningProposal",
          lambda w: {"proposalId": w.gid("proposal"), "accept": False, "note": "雨势减弱"},
          allowed={"admin": done("proposal"), "commander": done("proposal")}, refused=community_admin_refusals()),
    Entry("Mutation.saveSensor", "emergency/SaveSensor",
          lambda w: {"input": {"areaId": w.gid("com_a"), "sourceCode": "authz-gauges", "code": "authz-wl-2", "name": "新水位站",
                               "kind": "WATER_LEVEL", "unit": "m", "location": {"latitude": A_POINT[0], "longitude": A_POINT[1]},
                               "thresholds": [{"value": 3, "severity": "Moderate"}]}},
          allowed={"admin": done("sensor"), "commander": done("sensor")}, refused=community_admin_refusals()),
]

ENTRIES = FACILITIES + SUPPLIES + TEAMS + WARNINGS
