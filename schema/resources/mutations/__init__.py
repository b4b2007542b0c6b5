"""Resources mutations: facilities and shelter check-ins, supplies and stock, Excel."""

import graphene

from .facilities import CheckInToShelter, CheckOutOfShelter, SaveFacility, SetFacilityStatus
from .stock_files import ExportStock, ImportStock
from .supplies import (
    AddTaskSupply,
    AdjustStock,
    DistributeSupplies,
    IssueStock,
    ReceiveStock,
    RemoveTaskSupply,
    SaveSupplyItem,
    SaveWarehouse,
    SetStockThreshold,
    TransferStock,
)


class ResourcesMutations(graphene.ObjectType):
    save_facility = SaveFacility.Field()
    set_facility_status = SetFacilityStatus.Field()
    check_in_to_shelter = CheckInToShelter.Field()
    check_out_of_shelter = CheckOutOfShelter.Field()
    save_supply_item = SaveSupplyItem.Field()
    save_warehouse = SaveWarehouse.Field()
    receive_stock = ReceiveStock.Field()
    issue_stock = IssueStock.Field()
    distribute_supplies = DistributeSupplies.Field()
    adjust_stock = AdjustStock.Field()
    transfer_stock = TransferStock.Field()
    set_stock_threshold = SetStockThreshold.Field()
    add_task_supply = AddTaskSupply.Field()
    remove_task_supply = RemoveTaskSupply.Field()
    import_stock = ImportStock.Field()
    export_stock = ExportStock.Field()
