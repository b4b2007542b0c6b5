"""Supplies through the API: stock moves only through the append-only ledger, never below
zero and never by a negative movement; low stock alerts the responsible staff once; the
distribution list puts the vulnerable first; staff of other areas are refused and nothing
changes."""

import pytest
from django.db import IntegrityError, transaction

from notifications.models import Notification
from resources.models import AppendOnlyError, Stock, StockMovement
from resources.supplies import receive, take
from tests.operations import operation

from .conftest import gid

pytestmark = pytest.mark.django_db

ITEM = operation("resources/SaveSupplyItem")
WAREHOUSE = operation("resources/SaveWarehouse")
RECEIVE = operation("resources/ReceiveStock")
ISSUE = operation("resources/IssueStock")
DISTRIBUTE = operation("resources/DistributeSupplies")
ADJUST = operation("resources/AdjustStock")
TRANSFER = operation("resources/TransferStock")
THRESHOLD = operation("resources/SetStockThreshold")
STOCK = operation("resources/Stock")
LEDGER = operation("resources/StockMovements")
DISTRIBUTION = operation("resources/DistributionList")


def ids(store, item) -> dict:
    return {"warehouseId": gid("Warehouse", store), "itemId": gid("SupplyItem", item)}


def stock_of(store, item) -> Stock:
    return Stock.objects.get(warehouse=store, item=item)


def test_the_catalogue_is_kept_at_district_level_and_warehouses_by_their_area(world, gql):
    made = gql.data(ITEM, {"input": {"code": "tent", "name": "帐篷", "unit": "顶", "category": "SHELTER"}},
                    user=world.commander)["saveSupplyItem"]
    assert made["errors"] == [] and made["item"]["unit"] == "顶"
    status, body = gql(ITEM, {"input": {"code": "rope", "name": "绳索", "unit": "根"}}, user=world.admin_a)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    store = gql.data(WAREHOUSE, {"areaId": gid("Area", world.com_a), "code": "a-store", "name": "甲社区仓库"},
                     user=world.admin_a)["saveWarehouse"]
    assert store["errors"] == [] and store["warehouse"]["area"]["name"] == "甲社区"
    status, body = gql(WAREHOUSE, {"areaId": gid("Area", world.com_a), "code": "b", "name": "乙"}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_receiving_issuing_and_adjusting_are_ledger_lines_with_the_balance(world, gql, store, water):
    got = gql.data(RECEIVE, {**ids(store, water), "quantity": 100, "reason": "区应急局调拨", "key": "r1"},
                   user=world.admin_a)["receiveStock"]
    assert (got["movement"]["kind"], got["movement"]["change"], got["movement"]["balanceAfter"]) == ("RECEIVED", 100, 100)
    gql.data(ISSUE, {**ids(store, water), "quantity": 30, "reason": "送救援队"}, user=world.admin_a)
    adjusted = gql.data(ADJUST, {**ids(store, water), "change": -5, "reason": "盘点破损"}, user=world.admin_a)["adjustStock"]
    assert adjusted["stock"]["quantity"] == 65 and adjusted["movement"]["balanceAfter"] == 65
    ledger = gql.data(LEDGER, {"warehouseId": gid("Warehouse", store)}, user=world.admin_a)["stockMovements"]
    assert [(e["node"]["kind"], e["node"]["change"]) for e in ledger["edges"]] == [
        ("ADJUSTED", -5), ("ISSUED", -30), ("RECEIVED", 100)]
    replay = gql.data(RECEIVE, {**ids(store, water), "quantity": 100, "reason": "区应急局调拨", "key": "r1"},
                      user=world.admin_a)["receiveStock"]
    assert replay["movement"]["id"] == got["movement"]["id"] and stock_of(store, water).quantity == 65


@pytest.mark.parametrize("quantity", [-5, 0])
def test_a_negative_or_zero_movement_is_refused_and_changes_nothing(world, gql, store, water, quantity):
    receive(store, water, 10, by=None)
    for operation_text, name, extra in ((RECEIVE, "receiveStock", {}), (ISSUE, "issueStock", {"reason": "x"})):
        result = gql.data(operation_text, {**ids(store, water), "quantity": quantity, **extra}, user=world.admin_a)[name]
        assert result["errors"][0]["code"] == "INVALID_QUANTITY" and result["errors"][0]["field"] == "quantity"
    assert stock_of(store, water).quantity == 10 and StockMovement.objects.count() == 1


def test_stock_never_goes_below_zero_and_the_refusal_says_what_is_free(world, gql, store, water):
    receive(store, water, 10, by=None)
    refused = gql.data(ISSUE, {**ids(store, water), "quantity": 11, "reason": "送救援队"}, user=world.admin_a)["issueStock"]
    assert refused["errors"][0]["code"] == "INSUFFICIENT_STOCK" and "has 10 箱 of 矿泉水 free" in refused["errors"][0]["message"]
    adjust = gql.data(ADJUST, {**ids(store, water), "change": -11, "reason": "盘点"}, user=world.admin_a)["adjustStock"]
    assert adjust["errors"][0]["code"] == "INSUFFICIENT_STOCK"
    assert stock_of(store, water).quantity == 10 and StockMovement.objects.count() == 1


def test_a_stale_reader_cannot_take_what_is_gone(store, water):
    """Two storekeepers read 10 on the shelf; the second take is decided by the database."""
    receive(store, water, 10, by=None)
    first, second = stock_of(store, water), stock_of(store, water)
    take(first, 8, now=first.updated_at)
    with pytest.raises(Exception) as refused:
        take(second, 8, now=second.updated_at)
    assert refused.value.error_dict["quantity"][0].code == "insufficient_stock" and stock_of(store, water).quantity == 2


def test_the_database_refuses_negative_stock_even_past_the_service(store, water):
    receive(store, water, 1, by=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(warehouse=store, item=water).update(quantity=-1)


def test_the_ledger_is_append_only(store, water):
    movement = receive(store, water, 5, by=None)
    movement.reason = "改过"
    with pytest.raises(AppendOnlyError):
        movement.save()
    with pytest.raises(AppendOnlyError):
        movement.delete()


def test_a_transfer_moves_stock_between_warehouses_together_or_not_at_all(world, gql, store, water):
    from resources.supplies import save_warehouse

    depot = save_warehouse(area=world.sub_a, code="sub-a-depot", name="甲街道物资库")
    receive(depot, water, 50, by=None)
    moved = gql.data(TRANSFER, {"fromWarehouseId": gid("Warehouse", depot), "toWarehouseId": gid("Warehouse", store),
                                "itemId": gid("SupplyItem", water), "quantity": 20}, user=world.commander)["transferStock"]
    assert (moved["out"]["change"], moved["out"]["balanceAfter"], moved["in"]["change"], moved["in"]["balanceAfter"]) == (
        -20, 30, 20, 20)
    too_much = gql.data(TRANSFER, {"fromWarehouseId": gid("Warehouse", depot), "toWarehouseId": gid("Warehouse", store),
                                   "itemId": gid("SupplyItem", water), "quantity": 31}, user=world.commander)["transferStock"]
    assert too_much["errors"][0]["code"] == "INSUFFICIENT_STOCK"
    assert (stock_of(depot, water).quantity, stock_of(store, water).quantity, StockMovement.objects.count()) == (30, 20, 3)
    status, body = gql(TRANSFER, {"fromWarehouseId": gid("Warehouse", depot), "toWarehouseId": gid("Warehouse", store),
                                  "itemId": gid("SupplyItem", water), "quantity": 1}, user=world.admin_a)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_low_stock_alerts_the_responsible_staff_once_until_restocked(world, gql, store, water):
    receive(store, water, 20, by=None)
    set_ = gql.data(THRESHOLD, {**ids(store, water), "threshold": 10}, user=world.admin_a)["setStockThreshold"]
    assert set_["stock"]["isLow"] is False
    gql.data(ISSUE, {**ids(store, water), "quantity": 12, "reason": "送救援队"}, user=world.admin_a)
    gql.data(ISSUE, {**ids(store, water), "quantity": 2, "reason": "送救援队"}, user=world.admin_a)
    alerts = Notification.objects.filter(kind="supplies.low_stock")
    assert {n.user.username for n in alerts} == {"admin_a", "commander"}  # once each, not once per movement
    assert "可用仅剩8箱" in alerts.get(user=world.admin_a).body
    low = gql.data(STOCK, {"areaId": gid("Area", world.com_a), "lowOnly": True}, user=world.admin_a)["stock"]
    assert low["totalCount"] == 1 and low["edges"][0]["node"]["available"] == 6
    receive(store, water, 20, by=None)  # restocked: the next shortage is told again
    gql.data(ISSUE, {**ids(store, water), "quantity": 20, "reason": "送救援队"}, user=world.admin_a)
    assert Notification.objects.filter(kind="supplies.low_stock").count() == 4


def test_the_distribution_list_puts_vulnerable_households_first_with_what_they_got(world, gql, homes, store, water):
    receive(store, water, 10, by=None)
    got = gql.data(DISTRIBUTE, {**ids(store, water), "quantity": 2, "householdId": gid("Household", homes["li"])},
                   user=world.admin_a)["distributeSupplies"]
    assert got["movement"]["household"]["label"] == "1幢102" and got["stock"]["available"] == 8
    listed = gql.data(DISTRIBUTION, {"areaId": gid("Area", world.com_a), "itemId": gid("SupplyItem", water)},
                      user=world.admin_a)["distributionList"]
    assert [(r["household"]["label"], r["vulnerable"]) for r in listed] == [("1幢101", 1), ("2幢201", 1), ("1幢102", 0)]
    assert listed[0]["vulnerabilityFlags"] == ["elderly_living_alone"]
    assert listed[2]["received"] == [{"item": {"code": "water-550", "name": "矿泉水", "unit": "箱"}, "units": 2}]
    missing = gql.data(DISTRIBUTION, {"areaId": gid("Area", world.com_a), "itemId": gid("SupplyItem", water),
                                      "onlyMissing": True}, user=world.admin_a)["distributionList"]
    assert [r["household"]["label"] for r in missing] == ["1幢101", "2幢201"]
    masked = gql.data(DISTRIBUTION, {"areaId": gid("Area", world.com_a)}, user=world.commander)["distributionList"]
    assert masked[0]["vulnerable"] == 1 and masked[0]["vulnerabilityFlags"] == []  # commanders: no personal data
    status, body = gql(DISTRIBUTION, {"areaId": gid("Area", world.com_a)}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_staff_of_another_area_cannot_move_this_stock_or_read_its_ledger(world, gql, store, water):
    receive(store, water, 10, by=None)
    status, body = gql(ISSUE, {**ids(store, water), "quantity": 1, "reason": "x"}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    status, body = gql(LEDGER, {"warehouseId": gid("Warehouse", store)}, user=world.admin_b)
    assert body["data"] is None or body["errors"]
    assert gql.data(STOCK, {}, user=world.admin_b)["stock"]["totalCount"] == 0
    assert stock_of(store, water).quantity == 10
