from datetime import UTC, datetime

from django.template import engines
from django.test import SimpleTestCase, override_settings
from django.urls import clear_script_prefix, set_script_prefix

from monographs.jinja2 import url


def render(source, **context):
    return engines["jinja2"].from_string(source).render(context)


class Jinja2EnvironmentTests(SimpleTestCase):
    def test_a_printed_callable_fails_instead_of_showing_its_repr(self):
        with self.assertRaisesMessage(TypeError, "call it with ()"):
            render("{{ value.upper }}", value="mg")

    def test_a_called_method_prints_its_result(self):
        self.assertEqual(render("{{ value.upper() }}", value="mg"), "MG")

    def test_a_missing_variable_or_attribute_prints_nothing(self):
        self.assertEqual(render("[{{ missing.attribute.deeper }}]"), "[]")

    def test_output_is_escaped_and_safe_strings_are_not(self):
        from django.utils.safestring import mark_safe

        self.assertEqual(
            render("{{ a }}{{ b }}", a="<b>", b=mark_safe("<i>x</i>")),
            "&lt;b&gt;<i>x</i>",
        )

    def test_django_filters_keep_their_meaning(self):
        from datetime import date

        self.assertEqual(
            render(
                '{{ day|date("j F Y") }} {{ n }} level{{ n|pluralize }} {{ "mg"|capfirst }}',
                day=date(2024, 3, 5),
                n=2,
            ),
            "5 March 2024 2 levels Mg",
        )

    @override_settings(TIME_ZONE="America/New_York")
    def test_dates_show_in_the_current_time_zone_as_in_django_templates(self):
        moment = datetime(2024, 3, 5, 23, 30, tzinfo=UTC)
        self.assertEqual(
            render('{{ moment|date("j M H:i") }}', moment=moment), "5 Mar 18:30"
        )


class UrlTests(SimpleTestCase):
    def tearDown(self):
        clear_script_prefix()

    def test_reverses_with_arguments(self):
        self.assertEqual(
            url("monographs:form-detail", "magnesium-citrate"),
            "/forms/magnesium-citrate/",
        )

    def test_a_kept_answer_follows_the_script_prefix(self):
        self.assertEqual(url("monographs:form-list"), "/forms/")
        set_script_prefix("/mgref/")
        self.assertEqual(url("monographs:form-list"), "/mgref/forms/")
        clear_script_prefix()
        self.assertEqual(url("monographs:form-list"), "/forms/")

    @override_settings(ROOT_URLCONF="tests.urls_prefixed")
    def test_a_changed_urlconf_is_not_answered_from_kept_addresses(self):
        self.assertEqual(url("monographs:form-list"), "/prefixed/forms/")


class FullStopFilterTests(SimpleTestCase):
    def test_a_quote_that_ends_its_sentence_takes_no_second_stop(self):
        from monographs.templatetags.monographs import full_stop

        for quoted, stop in [
            ("Fix the dose.", ""),
            ("Really?", ""),
            ("Wait…", ""),
            ("Reworded summary", "."),
            ("", "."),
        ]:
            with self.subTest(quoted=quoted):
                self.assertEqual(full_stop(quoted), stop)
