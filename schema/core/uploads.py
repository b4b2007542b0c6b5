"""File uploads: the GraphQL multipart request spec (jaydenseric/graphql-multipart-request-spec).

A client sends multipart/form-data with three kinds of parts:
- `operations`: the usual JSON body, with null where each file goes;
- `map`: JSON {"0": ["variables.photo"], ...} saying where each file part goes;
- one part per file, named by the map's keys.
`operations_from_multipart` rebuilds the operations with Django UploadedFile objects in place,
and the `Upload` scalar passes them to resolvers. Services check size and sniffed type.
"""

from __future__ import annotations

import json

import graphene
from django.core.files.uploadedfile import UploadedFile
from graphql import GraphQLError


class Upload(graphene.Scalar):
    """A file sent as a part of a multipart request (see mobile_api_docs/community.md)."""

    @staticmethod
    def serialize(value):
        raise GraphQLError("Upload is an input-only type.")

    @staticmethod
    def parse_literal(node, _variables=None):
        raise GraphQLError("Send files as variables of a multipart request.")

    @staticmethod
    def parse_value(value):
        if isinstance(value, UploadedFile):
            return value
        raise GraphQLError("Expected a file part of a multipart request.")


class MultipartError(ValueError):
    pass


def _set_path(target, path: str, value) -> None:
    keys = path.split(".")
    node = target
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            try:
                index = int(key)
                if last:
                    node[index] = value
                    return
                node = node[index]
                continue
            except (ValueError, IndexError):
                raise MultipartError(f"map path {path!r} does not exist in operations")
        if not isinstance(node, dict) or key not in node:
            raise MultipartError(f"map path {path!r} does not exist in operations")
        if last:
            node[key] = value
            return
        node = node[key]


def operations_from_multipart(post, files) -> dict:
    """operations with every mapped file in place; MultipartError for malformed requests."""
    try:
        operations = json.loads(post.get("operations", ""))
        mapping = json.loads(post.get("map", "{}"))
    except (TypeError, ValueError):
        raise MultipartError("operations and map must be JSON")
    if not isinstance(operations, dict):
        raise MultipartError("operations must be one JSON object (batching is off)")
    if not isinstance(mapping, dict):
        raise MultipartError("map must be a JSON object")
    for key, paths in mapping.items():
        if key not in files:
            raise MultipartError(f"file part {key!r} is missing")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise MultipartError("map values must be lists of paths")
        for path in paths:
            if not path.startswith("variables."):
                raise MultipartError("files may only be placed in variables")
            _set_path(operations, path, files[key])
    return operations
