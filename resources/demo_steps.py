"""Demo data for the resources app (step 35): in every demo community a school shelter, a
medical point and a water point (closed until a plan opens them), a warehouse stocked with
everyday relief supplies and low-stock thresholds; one subdistrict warehouse as reserve.
Deterministic from the demo seed, like the other demo steps."""

from __future__ import annotations

from community.demo import DemoCity, register_demo_step
from community.models import Area, AreaKind

from .facilities import FacilitySpec, save_facility
from .models import FacilityKind, SupplyCategory
from .supplies import ItemSpec, receive, save_item, save_warehouse, set_low_threshold

ITEMS = [
    ItemSpec("water-24", "饮用水（24瓶装）", "箱", SupplyCategory.WATER, "Drinking water (24 bottles)", "box"),
    ItemSpec("instant-noodles", "方便面", "箱", SupplyCategory.FOOD, "Instant noodles", "box"),
    ItemSpec("torch", "手电筒", "个", SupplyCategory.POWER, "Torch", "piece"),
    ItemSpec("raincoat", "雨衣", "件", SupplyCategory.OTHER, "Raincoat", "piece"),
    ItemSpec("sandbag", "沙袋", "袋", SupplyCategory.TOOLS, "Sandbag", "bag"),
    ItemSpec("blanket", "棉被", "床", SupplyCategory.SHELTER, "Blanket", "piece"),
    ItemSpec("first-aid-kit", "急救包", "个", SupplyCategory.MEDICAL, "First-aid kit", "kit"),
]
# (item code, quantity in a community warehouse, low threshold)
COMMUNITY_STOCK = [("water-24", 120, 30), ("instant-noodles", 60, 15), ("torch", 40, 10), ("raincoat", 80, 20),
                   ("sandbag", 300, 100), ("blanket", 50, 10), ("first-aid-kit", 20, 5)]


def shelter_code(community: Area) -> str:
    """The code of a demo community's school shelter (the demo plans name it in their alerts)."""
    return f"{community.code}-school".lower()


def _near(demo: DemoCity, community: Area) -> tuple[float, float]:
    grids = [g for g in demo.grids if g.path.startswith(community.path)]
    return demo.point_in(demo.rng.choice(grids)) if grids else (community.center_lat or 0.0, community.center_lng or 0.0)


def demo_resources(demo: DemoCity) -> None:
    admin = demo.staff.get("admin")
    items = {spec.code: save_item(spec) for spec in ITEMS}
    for n, community in enumerate(demo.communities, start=1):
        code = community.code.lower()
        save_facility(FacilitySpec(code=shelter_code(community), kind=FacilityKind.SHELTER, name=f"{community.name}小学体育馆",
                                   name_en=f"{community.code} primary school gym", location=_near(demo, community),
                                   capacity=200 + 50 * n, address=f"{community.name}学府路{n}号",
                                   wheelchair_accessible=True, elderly_care=n % 2 == 1),
                      area=community, by=admin)
        save_facility(FacilitySpec(code=f"{code}-clinic", kind=FacilityKind.MEDICAL, name=f"{community.name}卫生服务站",
                                   name_en=f"{community.code} health station", location=_near(demo, community),
                                   address=f"{community.name}康宁路{n}号", wheelchair_accessible=True),
                      area=community, by=admin)
        save_facility(FacilitySpec(code=f"{code}-water", kind=FacilityKind.WATER, name=f"{community.name}应急供水点",
                                   name_en=f"{community.code} water point", location=_near(demo, community)),
                      area=community, by=admin)
        warehouse = save_warehouse(area=community, code=f"{code}-store", name=f"{community.name}应急物资储备点",
                                   address=f"{community.name}社区服务中心地下一层")
        for item_code, quantity, low in COMMUNITY_STOCK:
            receive(warehouse, items[item_code], quantity, by=admin, reason="演示数据：初始库存")
            set_low_threshold(warehouse, items[item_code], low)
    for subdistrict in Area.objects.filter(kind=AreaKind.SUBDISTRICT).order_by("pk"):
        reserve = save_warehouse(area=subdistrict, code=f"{subdistrict.code.lower()}-reserve", name=f"{subdistrict.name}物资仓库")
        for item_code, quantity, low in COMMUNITY_STOCK:
            receive(reserve, items[item_code], quantity * 5, by=admin, reason="演示数据：初始库存")
            set_low_threshold(reserve, items[item_code], low * 3)


register_demo_step(35, demo_resources)
