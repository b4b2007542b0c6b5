"""INSERT … SELECT: rows written by the database from a query, without a Python object per
row (a fan-out to tens of thousands of people in a few statements).

    written = insert_select(SafetyStatus, Resident.objects.filter(...), {
        "safety_check_id": Value(check.pk), "resident_id": F("pk"), "grid_id": F("grid_id"),
    }, ignore_conflicts=True)

`source` is any queryset: its filters and joins choose the rows, one written per row it
yields. `values` maps target fields (by attname: "user_id", not "user") to expressions over
the source (F(), Value(), Subquery(), Concat(), …). Every other concrete field gets its
model default, the same for every row, as Model() would give it (a callable default such as
timezone.now is called once; text fields ""); a nullable field without a default is NULL; any
other field left out is a mistake (ValueError), as is naming a field the model does not have. The
auto-incremented primary key is left to the database. With `ignore_conflicts`, rows that
would break a unique constraint are skipped (ON CONFLICT DO NOTHING / INSERT OR IGNORE), as
bulk_create(ignore_conflicts=True) does. Returns how many rows were written.

insert_rows(model, objs) is bulk_create without its per-value SQL compilation, for wide rows
written in bulk whose keys the caller does not need back.

The SELECT is compiled by Django, so the expressions are validated and quoted as in any
query; the column list follows the order the compiler actually selected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Expression, F, Model, QuerySet, Value
from django.db.models.constants import OnConflict
from django.db.models.fields import NOT_PROVIDED, Field
from django.db.models.functions import Cast

ALIAS = "insert_col_{}"


def _default(field: Field[Any, Any]) -> Expression:
    value = field.get_default()  # what Model() would hold: the default, "" for text, else None
    if value is None and not field.null:
        raise ValueError(f"{field.model.__name__}.{field.name} has no default and is not nullable: give its value")
    return Value(value, output_field=field)


def insert_select(model: type[Model], source: QuerySet[Any], values: Mapping[str, Expression | F], *,
                  ignore_conflicts: bool = False) -> int:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no field(s) {sorted(unknown)}")
    using = router.db_for_write(model)
    connection = connections[using]
    # PostgreSQL types a bare parameter in a sub-SELECT as text (then refuses it for a
    # timestamp or boolean column): constants are cast to their column's type. SQLite needs
    # no cast (and Django's cast of a datetime there would drop the microseconds).
    cast_constants = connection.vendor != "sqlite"
    annotations: dict[str, Any] = {}
    column_of: dict[str, str] = {}
    for attname, field in fields.items():
        if attname not in values and (field.primary_key and field.default is NOT_PROVIDED):
            continue  # the database numbers the rows
        alias = ALIAS.format(len(annotations))
        expression = values[attname] if attname in values else _default(field)
        if cast_constants and isinstance(expression, Value):
            expression = Cast(expression, output_field=field)
        annotations[alias] = expression
        column_of[alias] = str(field.column)
    query = source.order_by().annotate(**annotations).values(*annotations).query
    compiler = query.get_compiler(using=using)
    select_sql, params = compiler.as_sql()
    # The columns in the order the compiler selected them (annotations keep theirs today, but
    # nothing here depends on it).
    aliases = [alias for _, _, alias in compiler.select]
    if sorted(aliases) != sorted(annotations):
        raise RuntimeError(f"unexpected select list {aliases}")
    ops, quote = connection.ops, connection.ops.quote_name
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    insert = ops.insert_statement(on_conflict=on_conflict)
    columns = ", ".join(quote(column_of[alias]) for alias in aliases)
    # SQLite reads "ON" after a SELECT … FROM a join as the join's; a WHERE is always present
    # in Django's SQL for filtered sources, and the parenthesised SELECT removes the doubt.
    sql = f"{insert} {quote(model._meta.db_table)} ({columns}) SELECT * FROM ({select_sql}) AS insert_source WHERE 1=1"
    suffix = ops.on_conflict_suffix_sql(list(fields.values()), on_conflict, None, None) if ignore_conflicts else ""
    if suffix:
        sql = f"{sql} {suffix}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(int(cursor.rowcount), 0)


def insert_rows(model: type[Model], objs: Sequence[Model], *, ignore_conflicts: bool = False, batch_size: int = 500) -> None:
    """bulk_create for many unsaved objects without reading their keys back: one INSERT per
    `batch_size` rows, each value prepared by its field as save() would (pre_save with
    add=True, then get_db_prep_save: encryption, JSON, time zones), but without the per-value
    SQL compilation bulk_create does (~10x cheaper for wide rows such as the SMS outbox's).
    The objects' primary keys stay unset; with `ignore_conflicts`, rows breaking a unique
    constraint are skipped."""
    if not objs:
        return
    using = router.db_for_write(model)
    connection = connections[using]
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and getattr(objs[0], f.attname) is None)]
    ops, quote = connection.ops, connection.ops.quote_name
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    columns = ", ".join(quote(str(f.column)) for f in fields)
    suffix = ops.on_conflict_suffix_sql(fields, on_conflict, None, None) if ignore_conflicts else ""
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    max_rows = max(1, min(batch_size, ops.bulk_batch_size(fields, objs)))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), max_rows):
            batch = objs[start:start + max_rows]
            params: list[Any] = []
            for obj in batch:
                params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields)
            sql = f"{ops.insert_statement(on_conflict=on_conflict)} {quote(model._meta.db_table)} ({columns}) VALUES "
            cursor.execute(f"{sql}{', '.join([row_sql] * len(batch))} {suffix}".rstrip(), params)


def update_column(model: type[Model], attname: str, by_pk: Mapping[Any, Any], *, batch_size: int = 500,
                  **same: Any) -> int:
    """Set `attname` to its own value on each row (`by_pk`: primary key -> value) and the
    fields in `same` to one value on all of them, in one UPDATE per `batch_size` rows
    (UPDATE … FROM (VALUES …)) instead of bulk_update's CASE per row and
    field, which Django builds as thousands of expression objects. Values are prepared by
    their fields as save() would. Returns how many rows were updated."""
    if not by_pk:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    concrete = {f.attname: f for f in meta.concrete_fields}
    field = concrete[attname]
    pk_field = meta.pk
    assert pk_field is not None
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    fixed = [(concrete[name], value) for name, value in same.items()]
    fixed_sql = "".join(f", {quote(str(f.column))} = %s" for f, _ in fixed)
    fixed_params = [f.get_db_prep_save(value, connection=connection) for f, value in fixed]
    items = list(by_pk.items())
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            params: list[Any] = []
            for pk, value in batch:
                params.extend((pk_field.get_db_prep_value(pk, connection), field.get_db_prep_save(value, connection=connection)))
            values_sql = ", ".join(["(%s, %s)"] * len(batch))
            # VALUES names its columns column1, column2 in SQLite and PostgreSQL alike; the
            # statement starts with UPDATE so that sqlite3 reports its rowcount.
            cursor.execute(
                f"UPDATE {table} SET {quote(str(field.column))} = linli_v.column2{fixed_sql} "
                f"FROM (VALUES {values_sql}) AS linli_v WHERE {table}.{quote(str(pk_field.column))} = linli_v.column1",
                [*fixed_params, *params])
            updated += max(int(cursor.rowcount), 0)
    return updated
