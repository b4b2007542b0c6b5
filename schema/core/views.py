"""The one GraphQL HTTP view. Every GraphQL URL uses it (a test inspects the URLconf).

- Authentication is by bearer token only (`Authorization: Bearer <access token>`); the
  session cookie is ignored, which is why the view can be CSRF-exempt.
- Batching stays off; the parser is capped in tokens; validation rules cap depth, aliases,
  cost and mutations; introspection can be switched off by setting.
- Errors are masked unless they are ours to show (schema.core.execution.format_error).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, JsonResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, OperationType, execute, get_operation_ast
from graphql_jwt.exceptions import JSONWebTokenError, JSONWebTokenExpired

from core.unavailable import is_database_unavailable
from privacy.access import collecting
from privacy.models import Channel

from .auth import user_from_token
from .execution import format_error, original_error, prepare_document
from .inputs import refused_input
from .uploads import MultipartError, operations_from_multipart
from .validation import validation_rules


@method_decorator(csrf_exempt, name="dispatch")
class LinliGraphQLView(GraphQLView):
    batch = False
    # GraphiQL from the server's own static files (no CDN), its subscriptions carrying the
    # Authorization header of its Headers tab (backend/static/graphiql/linli-graphiql.js).
    graphiql_template = "linli/graphiql.html"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("graphiql", settings.GRAPHIQL)
        super().__init__(*args, **kwargs)

    @property
    def validation_rules(self):  # read per request: settings can change in tests
        return validation_rules()

    @validation_rules.setter
    def validation_rules(self, value):
        pass

    def dispatch(self, request, *args, **kwargs):
        response = self._dispatch(request, *args, **kwargs)
        # Answers carry personal data and depend on who asks: never stored by a cache.
        patch_cache_control(response, no_store=True, private=True)
        patch_vary_headers(response, ["Authorization"])
        return response

    def _dispatch(self, request, *args, **kwargs):
        request.user = AnonymousUser()
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            parts = header.split()
            if len(parts) != 2 or parts[0].lower() not in ("bearer", "jwt"):
                return _auth_error("Malformed Authorization header; use 'Bearer <token>'.", "UNAUTHENTICATED")
            try:
                request.user = user_from_token(parts[1])
            except JSONWebTokenExpired:
                return _auth_error("Access token expired; refresh it.", "TOKEN_EXPIRED")
            except JSONWebTokenError:
                return _auth_error("Invalid access token.", "UNAUTHENTICATED")
        if _content_length(request) > settings.GRAPHQL_UPLOAD_MAX_BYTES:
            return JsonResponse({"errors": [{"message": "Request too large.", "extensions": {"code": "FILE_TOO_LARGE"}}]}, status=413)
        if request.method.lower() == "get" and not settings.GRAPHIQL and self.request_wants_html(request):
            return JsonResponse({"errors": [{"message": "GraphiQL is disabled.", "extensions": {"code": "NOT_FOUND"}}]}, status=404)
        return super().dispatch(request, *args, **kwargs)

    def parse_body(self, request):
        if self.get_content_type(request) == "multipart/form-data":
            return _multipart_body(request)
        try:
            data = super().parse_body(request)
        except HttpError:
            raise
        if isinstance(data, list):
            raise HttpError(JsonResponse({"errors": [{"message": "Batched requests are not accepted.", "extensions": {"code": "BAD_REQUEST"}}]}, status=400))
        return data

    @staticmethod
    def get_graphql_params(request, data):
        query, variables, operation_name, id = GraphQLView.get_graphql_params(request, data)
        for name, value, kind, label in (("query", query, str, "a string"), ("variables", variables, dict, "an object"),
                                         ("operationName", operation_name, str, "a string")):
            if value is not None and not isinstance(value, kind):
                raise HttpError(HttpResponseBadRequest(f"`{name}` must be {label}."))
        return query, variables or None, operation_name, id

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        """graphene-django's, with the parse and validation remembered (prepare_document);
        mutations are atomic one by one (BaseMutation), so no request-wide transaction."""
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        schema = self.schema.graphql_schema
        document, errors = prepare_document(schema, query)
        if errors:
            return ExecutionResult(data=None, errors=errors)
        refused = refused_input(document, variables, operation_name)
        if refused is not None:
            return ExecutionResult(data=None, errors=[refused])
        operation = get_operation_ast(document, operation_name)
        if request.method.lower() == "get" and operation is not None and operation.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(["POST"], f"Can only perform a {operation.operation.value} operation from a POST request."))
        name = operation.name.value if operation is not None and operation.name is not None else (operation_name or "")
        try:
            with collecting(lambda: request.user, channel=Channel.API, operation=name):
                result = execute(schema, document, root_value=self.get_root_value(request), context_value=self.get_context(request),
                                 variable_values=variables, operation_name=operation_name, middleware=self.get_middleware(request))
        except Exception as exc:  # noqa: BLE001 - reported through format_error, as graphene-django does
            result = ExecutionResult(errors=[exc])
        request.linli_errors = result.errors or []
        return result

    def get_response(self, request, data, show_graphiql=False):
        result, status = super().get_response(request, data, show_graphiql)
        # The database went away mid-request: everything was rolled back; say "retry".
        if any(is_database_unavailable(original_error(e)) for e in getattr(request, "linli_errors", ())):
            status = 503
        return result, status

    @staticmethod
    def format_error(error):
        return format_error(error)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _multipart_body(request) -> dict:
    """GraphQL multipart request spec (file uploads), see schema/core/uploads.py."""
    try:
        return operations_from_multipart(request.POST, request.FILES)
    except MultipartError as exc:
        raise HttpError(JsonResponse({"errors": [{"message": f"Bad multipart request: {exc}", "extensions": {"code": "BAD_REQUEST"}}]}, status=400))


def _auth_error(message: str, code: str) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status=401)


def graphql_view():
    return LinliGraphQLView.as_view()


__all__ = ["LinliGraphQLView", "graphql_view", "json"]
