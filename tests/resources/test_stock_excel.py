"""Stock to and from Excel over GraphQL: export the sheet storekeepers keep, import a stocktake
(dry run, then all rows or none), and importing the same file again changes nothing."""

import base64
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from resources.models import Stock, StockMovement
from resources.supplies import ItemSpec, receive, save_item, save_warehouse
from tests.graphql import token_for
from tests.operations import operation

from .conftest import gid

pytestmark = pytest.mark.django_db

EXPORT = operation("resources/ExportStock")
IMPORT = operation("resources/ImportStock")


def xlsx(rows: list[list]) -> SimpleUploadedFile:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("盘点表.xlsx", buffer.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def upload(client, user, area, file, dry_run):
    operations = {"query": IMPORT, "variables": {"areaId": gid("Area", area), "file": None, "dryRun": dry_run}}
    response = client.post("/graphql/", data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]}),
                                              "0": file}, HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return response.json()["data"]["importStock"]


def test_staff_export_their_stock_as_a_spreadsheet(world, gql, store, water):
    receive(store, water, 40, by=None)
    exported = gql.data(EXPORT, {"areaId": gid("Area", world.com_a)}, user=world.admin_a)["exportStock"]["file"]
    assert exported["rowCount"] == 1 and exported["filename"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(base64.b64decode(exported["contentBase64"]))).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:6] == ["仓库编码", "仓库", "物资编码", "物资", "单位", "库存"]
    assert rows[1][:6] == ["com-a-store", "甲社区应急仓库", "water-550", "矿泉水", "箱", 40]
    status, body = gql(EXPORT, {"areaId": gid("Area", world.com_a)}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_stocktake_is_a_dry_run_first_then_all_rows_or_none(world, client, store, water):
    receive(store, water, 40, by=None)
    tent = save_item(ItemSpec(code="tent", name="帐篷", unit="顶", category="SHELTER"))
    rows = [["仓库编码", "物资编码", "盘点数量", "预警线"], ["com-a-store", "water-550", 37, 10], ["com-a-store", "帐篷", 5, None]]
    dry = upload(client, world.admin_a, world.com_a, xlsx(rows), True)
    assert dry["errors"] == [] and dry["report"]["applied"] is False and dry["report"]["adjusted"] == 2
    assert [(r["item"], r["change"]) for r in dry["report"]["rows"]] == [("water-550", -3), ("帐篷", 5)]
    assert StockMovement.objects.count() == 1  # the dry run wrote nothing

    done = upload(client, world.admin_a, world.com_a, xlsx(rows), False)
    assert done["report"]["applied"] is True
    assert (Stock.objects.get(item=water).quantity, Stock.objects.get(item=water).low_threshold) == (37, 10)
    assert Stock.objects.get(item=tent).quantity == 5
    assert set(StockMovement.objects.filter(kind="ADJUSTED").values_list("reason", flat=True)) == {"盘点导入：盘点表.xlsx"}

    again = upload(client, world.admin_a, world.com_a, xlsx(rows), False)
    assert again["report"]["unchanged"] == 2 and StockMovement.objects.count() == 3


def test_a_stocktake_with_a_bad_row_writes_nothing_and_names_every_problem(world, client, store, water):
    receive(store, water, 40, by=None)
    save_warehouse(area=world.com_b, code="com-b-store", name="乙社区仓库")
    rows = [["仓库编码", "物资编码", "库存"], ["com-a-store", "water-550", 30], ["com-b-store", "water-550", 1],
            ["com-a-store", "rope", -2], ["nowhere", "water-550", "很多"], ["com-a-store", "water-550", 31]]
    result = upload(client, world.admin_a, world.com_a, xlsx(rows), False)
    assert result["errors"][0]["code"] == "IMPORT_HAS_ERRORS" and result["report"]["applied"] is False
    problems = {r["row"]: [p["code"] for p in r["problems"]] for r in result["report"]["rows"] if r["problems"]}
    assert problems == {3: ["invalid_area"], 4: ["unknown_item", "invalid_quantity"],
                        5: ["unknown_warehouse", "invalid_quantity"], 6: ["invalid"]}  # row 6 repeats row 2
    assert Stock.objects.get(item=water, warehouse=store).quantity == 40 and StockMovement.objects.count() == 1


def test_a_sheet_without_the_needed_columns_is_refused(world, client, store):
    result = upload(client, world.admin_a, world.com_a, xlsx([["名称", "数量"], ["水", 1]]), True)
    assert {p["column"] for p in result["report"]["fileProblems"]} == {"warehouse", "item"}
