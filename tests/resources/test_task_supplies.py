"""A task carries supplies: attaching them reserves the stock, completing the task records
their distribution to the household, cancelling it frees the stock again — each exactly once."""

import pytest

from resources.models import Stock, StockMovement, TaskSupply
from resources.supplies import receive
from tests.operations import operation
from tests.volunteers.conftest import make_volunteer, new_task, new_user
from volunteers.services import add_person, check_in_on_site
from volunteers.services.assignments import complete_assignment

from .conftest import gid

pytestmark = pytest.mark.django_db

ADD = operation("resources/AddTaskSupply")
REMOVE = operation("resources/RemoveTaskSupply")
CLOSE = operation("tasks/CloseTask")
CANCEL = operation("tasks/CancelTask")

TASK_SUPPLIES = """query ($id: ID!) { task(id: $id) { id supplies { quantity status householdLabel item { code } } } }"""


def stock(store, item) -> Stock:
    return Stock.objects.get(warehouse=store, item=item)


def carry(gql, world, task, store, item, quantity, household=None):
    variables = {"taskId": gid("Task", task), "warehouseId": gid("Warehouse", store), "itemId": gid("SupplyItem", item),
                 "quantity": quantity}
    if household is not None:
        variables["householdId"] = gid("Household", household)
    return gql.data(ADD, variables, user=world.admin_a)["addTaskSupply"]


def test_a_task_reserves_what_it_carries_and_completing_it_distributes_it(world, gql, homes, store, water):
    receive(store, water, 10, by=None)
    task = new_task(world.grid_a1, title="送水上门", dispatch=False)
    added = carry(gql, world, task, store, water, 2, homes["wang"])
    assert added["errors"] == [] and added["taskSupply"]["status"] == "RESERVED"
    assert (stock(store, water).quantity, stock(store, water).reserved, stock(store, water).available) == (10, 2, 8)

    volunteer = make_volunteer(new_user("小王"), world.grid_a1)
    assignment = add_person(task, volunteer, by=world.admin_a)
    seen = gql.data(TASK_SUPPLIES, {"id": gid("Task", task)}, user=volunteer.user)["task"]["supplies"]
    assert seen == [{"quantity": 2, "status": "RESERVED", "householdLabel": "1幢101", "item": {"code": "water-550"}}]
    check_in_on_site(assignment, task.site)
    complete_assignment(assignment, by=volunteer.user)  # the only place done: the task is DONE

    line = TaskSupply.objects.get()
    movement = StockMovement.objects.get(kind="DISTRIBUTED")
    assert line.status == "DISTRIBUTED" and line.movement == movement
    assert (movement.change, movement.household, movement.task_id, movement.balance_after) == (-2, homes["wang"], task.pk, 8)
    assert (stock(store, water).quantity, stock(store, water).reserved) == (8, 0)


def test_closing_a_task_by_staff_distributes_too(world, gql, homes, store, water):
    receive(store, water, 5, by=None)
    task = new_task(world.grid_a1, title="送水上门", dispatch=False)
    carry(gql, world, task, store, water, 5, homes["zhao"])
    assert gql.data(CLOSE, {"taskId": gid("Task", task)}, user=world.admin_a)["closeTask"]["task"]["status"] == "DONE"
    assert (stock(store, water).quantity, stock(store, water).reserved) == (0, 0)
    assert StockMovement.objects.filter(kind="DISTRIBUTED", household=homes["zhao"]).count() == 1


def test_cancelling_a_task_releases_its_reservation(world, gql, homes, store, water):
    receive(store, water, 5, by=None)
    task = new_task(world.grid_a1, title="送水上门", dispatch=False)
    carry(gql, world, task, store, water, 3, homes["li"])
    gql.data(CANCEL, {"taskId": gid("Task", task), "reason": "已自行领取"}, user=world.admin_a)
    assert TaskSupply.objects.get().status == "RELEASED"
    assert (stock(store, water).quantity, stock(store, water).reserved) == (5, 0)
    assert not StockMovement.objects.filter(kind="DISTRIBUTED").exists()


def test_reserving_more_than_is_free_is_refused_and_changes_nothing(world, gql, store, water):
    receive(store, water, 3, by=None)
    first = new_task(world.grid_a1, title="送水一", dispatch=False)
    second = new_task(world.grid_a1, title="送水二", dispatch=False)
    carry(gql, world, first, store, water, 2)
    refused = carry(gql, world, second, store, water, 2)
    assert refused["errors"][0]["code"] == "INSUFFICIENT_STOCK"
    assert (stock(store, water).reserved, TaskSupply.objects.count()) == (2, 1)
    negative = carry(gql, world, second, store, water, -1)
    assert negative["errors"][0]["code"] == "INVALID_QUANTITY" and TaskSupply.objects.count() == 1


def test_removing_a_line_frees_the_stock_once(world, gql, store, water):
    receive(store, water, 3, by=None)
    task = new_task(world.grid_a1, title="送水", dispatch=False)
    line = carry(gql, world, task, store, water, 3)["taskSupply"]
    removed = gql.data(REMOVE, {"taskSupplyId": line["id"]}, user=world.admin_a)["removeTaskSupply"]
    assert removed["taskSupply"]["status"] == "RELEASED" and stock(store, water).available == 3
    again = gql.data(REMOVE, {"taskSupplyId": line["id"]}, user=world.admin_a)["removeTaskSupply"]
    assert again["errors"][0]["code"] == "ALREADY_SETTLED" and stock(store, water).reserved == 0


def test_a_drill_task_carries_no_real_stock_and_others_staff_cannot_attach(world, gql, store, water):
    receive(store, water, 3, by=None)
    drill = new_task(world.grid_a1, title="演练送水", dispatch=False, is_drill=True)
    assert carry(gql, world, drill, store, water, 1)["errors"][0]["code"] == "DRILL_TASK"
    task = new_task(world.grid_a1, title="送水", dispatch=False)
    status, body = gql(ADD, {"taskId": gid("Task", task), "warehouseId": gid("Warehouse", store),
                             "itemId": gid("SupplyItem", water), "quantity": 1}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and stock(store, water).reserved == 0
