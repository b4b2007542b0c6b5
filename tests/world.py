"""A small world for tests: one city, one district, two subdistricts, two communities,
four grids, and a staff member for each role."""

from __future__ import annotations

from dataclasses import dataclass, field

from community.models import Area, AreaKind, Role, RoleAssignment, User


@dataclass
class World:
    city: Area
    district: Area
    sub_a: Area
    sub_b: Area
    com_a: Area
    com_b: Area
    grid_a1: Area
    grid_a2: Area
    grid_b1: Area
    grid_b2: Area
    users: dict[str, User] = field(default_factory=dict)

    def __getattr__(self, name):
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


def make_user(username: str, phone: str | None = None, **extra) -> User:
    return User.objects.create_user(username=username, password="pw-for-tests-123", phone=phone, **extra)


def give_role(user: User, area: Area, role: str) -> RoleAssignment:
    return RoleAssignment.objects.create(user=user, area=area, role=role)


def _child(parent: Area, **values) -> Area:
    return Area.objects.add_child(Area.objects.get(pk=parent.pk), create_kwargs=values)


def build_world() -> World:
    city = Area.objects.add_root(create_kwargs=dict(name="测试市", code="t", kind=AreaKind.CITY, center_lat=30.27, center_lng=120.15))
    district = _child(city, name="东区", code="t-d", kind=AreaKind.DISTRICT)
    sub_a = _child(district, name="甲街道", code="t-d-a", kind=AreaKind.SUBDISTRICT)
    sub_b = _child(district, name="乙街道", code="t-d-b", kind=AreaKind.SUBDISTRICT)
    com_a = _child(sub_a, name="甲社区", code="t-d-a-1", kind=AreaKind.COMMUNITY, center_lat=30.27, center_lng=120.15)
    com_b = _child(sub_b, name="乙社区", code="t-d-b-1", kind=AreaKind.COMMUNITY, center_lat=30.29, center_lng=120.17)
    grid_a1 = _child(com_a, name="甲一网格", code="t-d-a-1-1", kind=AreaKind.GRID, center_lat=30.271, center_lng=120.151)
    grid_a2 = _child(com_a, name="甲二网格", code="t-d-a-1-2", kind=AreaKind.GRID, center_lat=30.275, center_lng=120.155)
    grid_b1 = _child(com_b, name="乙一网格", code="t-d-b-1-1", kind=AreaKind.GRID, center_lat=30.291, center_lng=120.171)
    grid_b2 = _child(com_b, name="乙二网格", code="t-d-b-1-2", kind=AreaKind.GRID, center_lat=30.295, center_lng=120.175)
    w = World(city, district, sub_a, sub_b, com_a, com_b, grid_a1, grid_a2, grid_b1, grid_b2)
    # Reload so every node carries its final path/numchild.
    for name in ("city", "district", "sub_a", "sub_b", "com_a", "com_b", "grid_a1", "grid_a2", "grid_b1", "grid_b2"):
        setattr(w, name, Area.objects.get(pk=getattr(w, name).pk))
    w.users["worker_a1"] = make_user("worker_a1", "+8613800000001")
    give_role(w.users["worker_a1"], w.grid_a1, Role.GRID_WORKER)
    w.users["worker_b1"] = make_user("worker_b1", "+8613800000002")
    give_role(w.users["worker_b1"], w.grid_b1, Role.GRID_WORKER)
    w.users["admin_a"] = make_user("admin_a", "+8613800000003")
    give_role(w.users["admin_a"], w.com_a, Role.COMMUNITY_ADMIN)
    w.users["admin_b"] = make_user("admin_b", "+8613800000004")
    give_role(w.users["admin_b"], w.com_b, Role.COMMUNITY_ADMIN)
    w.users["commander"] = make_user("commander", "+8613800000005")
    give_role(w.users["commander"], w.district, Role.DISTRICT_COMMANDER)
    w.users["resident"] = make_user("resident", "+8613900000001")
    w.users["other_resident"] = make_user("other_resident", "+8613900000002")
    return w
