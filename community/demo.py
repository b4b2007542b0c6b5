"""A realistic demo city, generated deterministically from a seed.

Builds the area tree and staff here; each app contributes its people and data from its own
`demo_steps.py` module (discovered in every installed app) through `register_demo_step`
(residents from community, volunteers from volunteers, ...), so one command loads
everything. Coordinates are WGS-84 around a real district of Hangzhou.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.db import transaction
from shapely.geometry import MultiPolygon, Polygon

from .boundaries import write_boundaries
from .models import Area, AreaKind, Role, RoleAssignment, User

DEMO_PASSWORD = "linli-demo"
CITY_CENTER = (30.2741, 120.1551)  # Hangzhou, WGS-84
GRID_SPACING = 0.004  # degrees between neighbouring grid centres (about 445 m north-south, 385 m east-west)
GRID_HALF_SIDE = GRID_SPACING / 2  # each grid is the square cell around its centre: neighbours share edges

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏飞斌宇浩凯婷雪琳晨阳建国建华志强海燕丹丹桂芳淑珍凤英玉珍"


@dataclass
class DemoCity:
    rng: random.Random
    city: Area
    grids: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    staff: dict[str, User] = field(default_factory=dict)

    def chinese_name(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.6 else "")
        return self.rng.choice(SURNAMES) + given[:2]

    def point_in(self, grid: Area) -> tuple[float, float]:
        """A random place inside the grid's boundary (its cell, see _draw_boundaries)."""
        if grid.center_lat is None or grid.center_lng is None:
            raise ValueError(f"demo grid {grid.code} has no centre")
        reach = GRID_HALF_SIDE * 0.9
        return (grid.center_lat + self.rng.uniform(-reach, reach), grid.center_lng + self.rng.uniform(-reach, reach))

    def mobile(self, n: int) -> str:
        return f"+86139{n:08d}"


_steps: list[tuple[int, Callable[[DemoCity], None]]] = []


def register_demo_step(order: int, step: Callable[[DemoCity], None]) -> None:
    if all(s is not step for _, s in _steps):
        _steps.append((order, step))


def _area(parent: Area | None, name: str, code: str, kind: str, lat: float, lng: float) -> Area:
    values = dict(name=name, code=code, kind=kind, center_lat=lat, center_lng=lng)
    if parent is None:
        return Area.objects.add_root(create_kwargs=values)
    return Area.objects.add_child(Area.objects.get(pk=parent.pk), create_kwargs=values)


def _staff(username: str, display_name: str, area: Area, role: str, n: int) -> User:
    user = User.objects.create_user(username=username, password=DEMO_PASSWORD, display_name=display_name, phone=f"+86138{n:08d}")
    RoleAssignment.objects.create(user=user, area=area, role=role)
    return user


def _square(lat: float, lng: float, south: float, west: float, north: float, east: float) -> MultiPolygon:
    return MultiPolygon([Polygon([(lng + west, lat + south), (lng + east, lat + south), (lng + east, lat + north),
                                  (lng + west, lat + north), (lng + west, lat + south)])])


def _draw_boundaries(demo: DemoCity) -> None:
    """Each grid the square cell around its centre, each community the 2x2 block of its
    grids (so `make run` shows shapes, and pins find their grid by them)."""
    h, span = GRID_HALF_SIDE, GRID_SPACING + GRID_HALF_SIDE
    batch: dict[Area, MultiPolygon | None] = {}
    for community in demo.communities:
        batch[community] = _square(community.center_lat or 0, community.center_lng or 0, -h, -h, span, span)
    for grid in demo.grids:
        batch[grid] = _square(grid.center_lat or 0, grid.center_lng or 0, -h, -h, h, h)
    write_boundaries(batch)


def discover_demo_steps() -> None:
    """Import `<app>.demo_steps` for every installed app that has one."""


    for config in apps.get_app_configs():
        name = f"{config.name}.demo_steps"
        if find_spec(name) is not None:
            import_module(name)


@transaction.atomic
def build_demo_city(seed: int = 2026) -> DemoCity:
    rng = random.Random(seed)
    lat0, lng0 = CITY_CENTER
    city = _area(None, "杭州市", "hz", AreaKind.CITY, lat0, lng0)
    demo = DemoCity(rng=rng, city=city)
    district = _area(city, "上城区", "hz-sc", AreaKind.DISTRICT, lat0, lng0)
    admin = User.objects.create_superuser(username="admin", password=DEMO_PASSWORD, display_name="系统管理员")
    demo.staff["admin"] = admin
    demo.staff["commander1"] = _staff("commander1", "区指挥 周建国", district, Role.DISTRICT_COMMANDER, 1)
    demo.staff["auditor1"] = _staff("auditor1", "个人信息审计 吴敏", district, Role.AUDITOR, 2)
    n = 10
    for s, sub_name in enumerate(["湖滨街道", "清波街道"]):
        sub = _area(district, sub_name, f"hz-sc-{s + 1}", AreaKind.SUBDISTRICT, lat0 + 0.02 * s, lng0)
        for c, com_name in enumerate(["东坡社区", "岳王社区"] if s == 0 else ["柳翠井社区", "清河坊社区"]):
            clat, clng = lat0 + 0.02 * s + 0.008 * c, lng0 + 0.01 * c
            com = _area(sub, com_name, f"{sub.code}-{c + 1}", AreaKind.COMMUNITY, clat, clng)
            demo.communities.append(com)
            idx = len(demo.communities)
            demo.staff[f"communityadmin{idx}"] = _staff(f"communityadmin{idx}", f"社区管理员{idx}", com, Role.COMMUNITY_ADMIN, n)
            n += 1
            for g in range(4):
                glat, glng = clat + GRID_SPACING * (g // 2), clng + GRID_SPACING * (g % 2)
                grid = _area(com, f"{com_name}第{g + 1}网格", f"{com.code}-{g + 1}", AreaKind.GRID, glat, glng)
                demo.grids.append(grid)
                gi = len(demo.grids)
                demo.staff[f"gridworker{gi}"] = _staff(f"gridworker{gi}", f"网格员{gi}", grid, Role.GRID_WORKER, n)
                n += 1
    _draw_boundaries(demo)
    discover_demo_steps()
    for _, step in sorted(_steps, key=lambda s: s[0]):
        step(demo)
    return demo
