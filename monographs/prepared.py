"""
ORM queries compiled once and run many times.

Building and compiling a QuerySet costs far more Python than running its SQL
on an indexed column: most of a document build was the ORM composing the
same thirteen queries on every save. ``PreparedValues`` keeps the SQL the
ORM compiled for a ``values()`` query, and the converters it would apply,
per database alias; each run substitutes its values for the query's
parameters and reads the rows as the ORM would have returned them.

Only what survives compilation unchanged may be substituted: a value in an
``exact`` or ``in`` lookup on an integer (32 or 64 bits: the placeholders are
too large for a small-integer column) or text column. Anything else
(``iexact`` escapes its value into a pattern, ``None`` becomes ``IS NULL``)
is refused when the query is first compiled or run.
"""

from django.db import connections
from django.db.models.lookups import Exact, In, IntegerFieldOverflow

SUBSTITUTABLE = (Exact, In)


def _placeholder(index):
    """A value no row has, recognisable among a compiled query's parameters
    whether the field kept it as a number or made it text. Positive and
    within 32 bits: Django compiles a value outside an integer column's range
    (a negative number on a PositiveIntegerField) to a query matching nothing."""
    return 1_987_654_321 + index


def _lookups(node):
    for child in node.children:
        if hasattr(child, "children"):
            yield from _lookups(child)
        else:
            yield child


def _holds(lookup, placeholders):
    """Whether ``lookup``'s right-hand side is one of the placeholders."""
    rhs = lookup.rhs
    iterable = hasattr(rhs, "__iter__") and not isinstance(rhs, str | bytes)
    return any(str(value) in placeholders for value in (rhs if iterable else [rhs]))


def _unbind(function, ops):
    """(function, whether it is a method of the backend's operations): those
    are bound to one connection, and are called with the running one's."""
    if getattr(function, "__self__", None) is ops:
        return function.__func__, True
    return function, False


def _bounds(query, placeholder, connection):
    """(lowest, highest) value the column compared with ``placeholder`` holds,
    where the ORM checks it (an integer column's exact lookup), else
    (None, None)."""
    for lookup in _lookups(query.where):
        if isinstance(lookup, IntegerFieldOverflow) and _holds(
            lookup, {str(placeholder)}
        ):
            return connection.ops.integer_field_range(
                lookup.lhs.output_field.get_internal_type()
            )
    return None, None


def _builtin_base(kind):
    """``int`` for psycopg's ``Int4``, ``str`` for ``str``: what a run's value
    must be for the compiled parameter's type."""
    builtin = (
        b for b in kind.__mro__ if b.__module__ == "builtins" and b is not object
    )
    return next(builtin, kind)


class PreparedValues:
    """A ``values()`` QuerySet compiled once per database alias, run many times.

    ``build(parameter)`` returns the QuerySet. With ``many``, the parameter
    is a list (for an ``__in`` lookup, or one value per lookup) and the
    query is compiled once per length of list.
    """

    def __init__(self, build, *, many=False):
        self.build = build
        self.many = many
        # Per alias and length of list. Nothing here refers to a connection:
        # converters the backend bound to one are kept unbound (see _unbind),
        # so a thread's connection is never kept open past its thread.
        self._compiled = {}

    def _compile(self, connection, count):
        placeholders = [_placeholder(index) for index in range(count or 1)]
        queryset = self.build(placeholders if self.many else placeholders[0])
        query = queryset.query
        texts = {str(placeholder) for placeholder in placeholders}
        for lookup in _lookups(query.where):
            if _holds(lookup, texts) and not isinstance(lookup, SUBSTITUTABLE):
                raise ValueError(
                    f"a {lookup.lookup_name} lookup changes its value: only "
                    "exact and in lookups can be prepared"
                )
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = []
        for placeholder in placeholders:
            found = [
                i for i, param in enumerate(params) if str(param) == str(placeholder)
            ]
            if len(found) != 1:
                raise ValueError(f"each parameter must appear once in {sql!r}")
            # The type the column took the value as: a run must give the same.
            # A backend may wrap the value in a subclass of it (psycopg's Int4
            # for an integer column on PostgreSQL): a run wraps its value alike.
            slots.append(
                (
                    found[0],
                    type(params[found[0]]),
                    _bounds(query, placeholder, connection),
                )
            )
        columns = compiler.select[: compiler.col_count]
        converters = {
            index: (
                [_unbind(function, connection.ops) for function in functions],
                expression,
            )
            for index, (functions, expression) in compiler.get_converters(
                [column[0] for column in columns]
            ).items()
        }
        # The SELECT's order: values()'s own, annotations and fields mixed.
        names = (
            list(query.selected)
            if query.selected
            else [
                *query.extra_select,
                *query.values_select,
                *query.annotation_select,
            ]
        )
        if len(names) != compiler.col_count:
            raise ValueError("only values() of fields and annotations can be prepared")
        compiled = (sql, list(params), slots, names, converters)
        self._compiled[connection.alias, count] = compiled
        return compiled

    def run(self, value, *, using="default"):
        """The rows for ``value``, as dicts, in the database's order."""
        values = list(value) if self.many else [value]
        if not values:
            return []
        count = len(values) if self.many else None
        connection = connections[using]
        compiled = self._compiled.get((using, count))
        if compiled is None:
            compiled = self._compile(connection, count)
        sql, params, slots, names, converters = compiled
        params = params.copy()
        for (slot, kind, (low, high)), value in zip(slots, values, strict=True):
            base = _builtin_base(kind)
            if not isinstance(value, base) or isinstance(value, bool):
                raise TypeError(
                    f"{value!r} is not a {base.__name__}, as the column takes it"
                )
            if (low is not None and value < low) or (high is not None and value > high):
                # The ORM matches nothing with a number the column cannot
                # hold (the lookups of a prepared query all hold together).
                return []
            params[slot] = value if type(value) is kind else kind(value)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            ops = connection.ops
            rows = [list(row) for row in rows]
            for row in rows:
                for index, (functions, expression) in converters.items():
                    value = row[index]
                    for function, of_ops in functions:
                        if of_ops:
                            value = function(ops, value, expression, connection)
                        else:
                            value = function(value, expression, connection)
                    row[index] = value
        return [dict(zip(names, row, strict=True)) for row in rows]
