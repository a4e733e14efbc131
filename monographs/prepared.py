"""
ORM queries compiled once and run many times.

Building and compiling a QuerySet costs far more Python than running its SQL
on an indexed column: most of a document build was the ORM composing the
same thirteen queries on every save. ``PreparedValues`` keeps the SQL the
ORM compiled for a ``values()`` query, and the converters it would apply,
per database alias; each run substitutes one parameter and reads the rows as
the ORM would have returned them.
"""

from django.db import connections


def _placeholder(index):
    """A value no row has, recognisable among a compiled query's parameters
    whether the field kept it as a number or made it text."""
    return -987_654_321 - index


class PreparedValues:
    """A ``values()`` QuerySet compiled once per database alias, run many times.

    ``build(parameter)`` returns the QuerySet. With ``many``, the parameter
    is a list (for an ``__in`` lookup) and the query is compiled once per
    length of list. Each value must reach the SQL once and unchanged, as an
    equality or ``__in`` on an integer or text column does.
    """

    def __init__(self, build, *, many=False):
        self.build = build
        self.many = many
        self._compiled = {}

    def _compile(self, alias, count):
        placeholders = [_placeholder(index) for index in range(count or 1)]
        queryset = self.build(placeholders if self.many else placeholders[0])
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []
        for placeholder in placeholders:
            found = [
                i for i, param in enumerate(params) if str(param) == str(placeholder)
            ]
            if len(found) != 1:
                raise ValueError(f"each parameter must appear once in {sql!r}")
            slots += found
        columns = compiler.select[: compiler.col_count]
        converters = compiler.get_converters([column[0] for column in columns])
        names = [*queryset.query.values_select, *queryset.query.annotation_select]
        if len(names) != len(columns):
            raise ValueError("only values() of fields and annotations can be prepared")
        compiled = (sql, list(params), slots, names, converters)
        self._compiled[alias, count] = compiled
        return compiled

    def run(self, value, *, using="default"):
        """The rows for ``value``, as dicts, in the database's order."""
        values = list(value) if self.many else [value]
        if not values:
            return []
        count = len(values) if self.many else None
        compiled = self._compiled.get((using, count)) or self._compile(using, count)
        sql, params, slots, names, converters = compiled
        params = params.copy()
        for slot, value in zip(slots, values, strict=True):
            params[slot] = value
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for index, (functions, expression) in converters.items():
                    value = row[index]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[index] = value
        return [dict(zip(names, row, strict=True)) for row in rows]
