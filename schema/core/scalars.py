"""The location input used everywhere: latitude, longitude and the datum they are in; the
location and GeoJSON outputs."""

import json

import graphene
from graphql import ValueNode, value_from_ast_untyped

from community.geo import Datum, from_wgs84, to_wgs84

DatumEnum = graphene.Enum.from_enum(Datum, description="WGS84 (GPS), GCJ02 (AMap/Tencent), BD09 (Baidu)")


class LocationInput(graphene.InputObjectType):
    latitude = graphene.Float(required=True)
    longitude = graphene.Float(required=True)
    datum = DatumEnum(default_value=Datum.WGS84.value, description="Defaults to WGS84.")


class Location(graphene.ObjectType):
    """WGS-84 unless the field that returns it took a `datum` argument (see `datum`)."""

    latitude = graphene.Float(required=True)
    longitude = graphene.Float(required=True)
    datum = graphene.Field(DatumEnum, required=True, description="The datum of these numbers (WGS84 unless you asked for another).")

    def resolve_datum(self, info):
        return getattr(self, "datum", None) or Datum.WGS84.value


def location_in(lat: float, lng: float, datum=None) -> Location:
    """A WGS-84 point as a Location in `datum` (a DatumEnum value or member; default WGS84)."""
    datum = str(getattr(datum, "value", datum) or Datum.WGS84.value)
    lat, lng = from_wgs84(lat, lng, datum)
    return Location(latitude=lat, longitude=lng, datum=datum)


def location_to_wgs84(value, field: str = "location") -> tuple[float, float]:
    """LocationInput -> validated WGS-84 (lat, lng); ValidationError naming `field` otherwise."""
    datum = value.get("datum", Datum.WGS84)
    datum = getattr(datum, "value", datum)
    return to_wgs84(value.get("latitude"), value.get("longitude"), datum, field)


class GeoJSON(graphene.Scalar):
    """A GeoJSON geometry (RFC 7946) as a JSON object, [longitude, latitude] order. As input,
    the object or its JSON text."""

    @staticmethod
    def serialize(value):
        return value

    @staticmethod
    def parse_value(value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value  # the service answers with a typed INVALID_BOUNDARY
        return value

    @staticmethod
    def parse_literal(node: ValueNode, _variables=None):
        return GeoJSON.parse_value(value_from_ast_untyped(node, _variables))
