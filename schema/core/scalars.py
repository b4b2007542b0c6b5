"""The location input used everywhere: latitude, longitude and the datum they are in."""

import graphene

from community.geo import Datum, to_wgs84

DatumEnum = graphene.Enum.from_enum(Datum, description="WGS84 (GPS), GCJ02 (AMap/Tencent), BD09 (Baidu)")


class LocationInput(graphene.InputObjectType):
    latitude = graphene.Float(required=True)
    longitude = graphene.Float(required=True)
    datum = DatumEnum(default_value=Datum.WGS84.value, description="Defaults to WGS84.")


class Location(graphene.ObjectType):
    """Always WGS-84."""

    latitude = graphene.Float(required=True)
    longitude = graphene.Float(required=True)


def location_to_wgs84(value, field: str = "location") -> tuple[float, float]:
    """LocationInput -> validated WGS-84 (lat, lng); ValidationError naming `field` otherwise."""
    datum = value.get("datum", Datum.WGS84)
    datum = getattr(datum, "value", datum)
    return to_wgs84(value.get("latitude"), value.get("longitude"), datum, field)
