"""Queries compiled once give what the ORM gives."""

import datetime
import gc
import threading
import weakref
from decimal import Decimal

from django.db import connections
from django.db.models import Value
from django.test import TestCase, TransactionTestCase

from monographs.models import Citation, Dose, Evidence, Revision
from monographs.prepared import PreparedValues
from tests import factories


class PreparedValuesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.form = factories.MagnesiumFormFactory(elemental_mg_percent=Decimal("14.1"))
        cls.other = factories.MagnesiumFormFactory()
        cls.dose = factories.DoseFactory(form=cls.form)
        factories.DoseFactory(form=cls.other)
        cls.citations = [
            factories.CitationFactory(key=f"source{year}", year=year)
            for year in (2019, 2020, 2021)
        ]
        cls.dose.citations.set(cls.citations[:2])

    def doses(self, form_id):
        return (
            Dose.objects.filter(form_id=form_id)
            .order_by("pk", "citations")
            .values("id", "minimum_mg", "citations", "citations__key")
        )

    def test_rows_equal_the_orms(self):
        prepared = PreparedValues(self.doses)
        for form in (self.form, self.other):
            with self.subTest(form=form.slug):
                self.assertEqual(prepared.run(form.pk), list(self.doses(form.pk)))

    def test_converts_values_as_the_orm_does(self):
        evidence = factories.EvidenceFactory(
            form=self.form, rated_on=datetime.date(2024, 5, 1)
        )
        prepared = PreparedValues(
            lambda pk: Evidence.objects.filter(pk=pk).values(
                "rated_on", "form__elemental_mg_percent"
            )
        )
        (row,) = prepared.run(evidence.pk)
        self.assertEqual(
            row,
            {
                "rated_on": datetime.date(2024, 5, 1),
                "form__elemental_mg_percent": Decimal("14.1"),
            },
        )
        self.assertIsInstance(row["form__elemental_mg_percent"], Decimal)
        created = PreparedValues(
            lambda form_id: Revision.objects.filter(form_id=form_id).values(
                "created_at"
            )
        )
        rows = created.run(self.form.pk)
        self.assertEqual(
            rows, list(Revision.objects.filter(form=self.form).values("created_at"))
        )
        self.assertIsInstance(rows[0]["created_at"], datetime.datetime)
        self.assertIsNotNone(rows[0]["created_at"].tzinfo)

    def test_one_query_a_run_and_nothing_rebuilt(self):
        prepared = PreparedValues(self.doses)
        prepared.run(self.form.pk)
        with self.assertNumQueries(1):
            prepared.run(self.other.pk)

    def test_lists_compile_once_per_length(self):
        prepared = PreparedValues(
            lambda keys: (
                Citation.objects.filter(key__in=keys).order_by("key").values("key")
            ),
            many=True,
        )
        self.assertEqual(
            prepared.run(["source2021", "source2019"]),
            [{"key": "source2019"}, {"key": "source2021"}],
        )
        self.assertEqual(prepared.run(["source2020"]), [{"key": "source2020"}])
        self.assertEqual(
            prepared.run(["nothing", "source2020"]), [{"key": "source2020"}]
        )
        with self.assertNumQueries(0):
            self.assertEqual(prepared.run([]), [])

    def test_one_value_per_lookup_on_positive_integer_columns(self):
        # Revision.number is a PositiveIntegerField: a placeholder outside its
        # range would compile to a query matching nothing.
        revisions = list(Revision.objects.filter(form=self.form))
        self.assertGreater(len(revisions), 1)

        def revision(form_and_number):
            return Revision.objects.filter(
                form_id=form_and_number[0], number=form_and_number[1]
            ).values("pk")

        prepared = PreparedValues(revision, many=True)
        for expected in revisions:
            with self.subTest(number=expected.number):
                self.assertEqual(
                    prepared.run([self.form.pk, expected.number]),
                    [{"pk": expected.pk}],
                )
        self.assertEqual(prepared.run([self.other.pk, revisions[0].number]), [])
        # A number the column cannot hold matches nothing, as with the ORM,
        # on each database's range (none is 64-bit unsigned).
        for number in (-1, 2**64):
            with self.subTest(number=number):
                self.assertEqual(list(revision([self.form.pk, number])), [])
                self.assertEqual(prepared.run([self.form.pk, number]), [])

    def test_names_follow_the_select_with_annotations_mixed_in(self):
        def build(pk):
            return (
                Citation.objects.filter(pk=pk)
                .annotate(label=Value("X"))
                .values("id", "label", "key")
            )

        pk = self.citations[0].pk
        self.assertEqual(PreparedValues(build).run(pk), list(build(pk)))

    def test_lookups_that_change_their_value_are_refused(self):
        for lookup in ("iexact", "startswith", "contains"):
            with self.subTest(lookup=lookup):
                prepared = PreparedValues(
                    lambda key, lookup=lookup: Citation.objects.filter(
                        **{f"key__{lookup}": key}
                    ).values("id")
                )
                with self.assertRaisesMessage(ValueError, "only exact and in"):
                    prepared.run("a_c2020")

    def test_values_of_another_type_are_refused(self):
        prepared = PreparedValues(self.doses)
        for value in (None, str(self.form.pk), True):
            with self.subTest(value=value), self.assertRaises(TypeError):
                prepared.run(value)

    def test_a_parameter_the_sql_does_not_carry_as_given_is_refused(self):
        prepared = PreparedValues(
            lambda pk: Dose.objects.filter(pk__gt=pk * 2).values("id")
        )
        with self.assertRaisesMessage(ValueError, "must appear once"):
            prepared.run(1)


class PreparedValuesThreadTests(TransactionTestCase):
    """Outside a test transaction, so that another thread's connection may
    read what this one wrote, on SQLite and PostgreSQL alike."""

    def test_a_thread_runs_on_its_own_connection_and_does_not_keep_it(self):
        # created_at: SQLite's backend converts it with a method bound to
        # the connection's operations.
        prepared = PreparedValues(
            lambda pk: Revision.objects.filter(pk=pk).values("id", "created_at")
        )
        revision = Revision.objects.filter(form=factories.MagnesiumFormFactory()).get()
        expected = prepared.run(revision.pk)
        found, held = [], []

        def run():
            own = connections["default"]
            held.append(weakref.ref(own))
            try:
                found.append(prepared.run(revision.pk))
            finally:
                own.close()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        self.assertEqual(found, [expected])
        self.assertEqual(
            expected, [{"id": revision.pk, "created_at": revision.created_at}]
        )
        # Compiled once for the alias, and the thread's connection is not
        # kept alive by what was compiled (it was, through the converters).
        self.assertEqual(list(prepared._compiled), [("default", None)])
        gc.collect()
        self.assertIsNone(held[0]())
