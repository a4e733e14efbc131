"""Hypothesis throws generated parameters at every public URL: never a 5xx."""

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from monographs.history import change_context
from tests import factories

anything = st.text(max_size=60)
numberish = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        ["", "0", "1", "-1", "1e3", "0x10", "²", "٣", "1.5", " 2", "9" * 40]
    ),
    anything,
)
sluglike = st.one_of(
    st.sampled_from(
        ["magnesium-citrate", "magnesium-draft", "nope", "compare", "..", ""]
    ),
    st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True),
    anything,
)

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class UrlParameterFuzzTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        form = factories.MagnesiumFormFactory(
            name="Magnesium citrate", slug="magnesium-citrate"
        )
        factories.publish(form)
        with change_context(reason="Second revision"):
            form.summary = "Changed."
            form.save()
        factories.publish(form)
        factories.MagnesiumFormFactory(name="Magnesium draft", slug="magnesium-draft")

    def assert_no_server_error(self, url):
        response = self.client.get(url)
        self.assertLess(response.status_code, 500, url)

    @FUZZ
    @given(slug=sluglike)
    def test_slugs(self, slug):
        slug = quote(slug, safe="")
        for template in [
            "/forms/{}/",
            "/forms/{}/history/",
            "/forms/{}/history/feed/",
            "/forms/{}/draft/",
            "/indications/{}/",
            "/side-effects/{}/",
            "/api/v1/forms/{}/",
        ]:
            self.assert_no_server_error(template.format(slug))

    @FUZZ
    @given(number=numberish, other=numberish)
    def test_revision_numbers_and_diff_parameters(self, number, other):
        self.assert_no_server_error(
            f"/forms/magnesium-citrate/revisions/{quote(number)}/"
        )
        self.assert_no_server_error(
            f"/forms/magnesium-citrate/diff/?from={quote(number)}&to={quote(other)}"
        )

    @FUZZ
    @given(page=numberish)
    def test_page_numbers(self, page):
        page = quote(page)
        for url in [
            f"/forms/magnesium-citrate/history/?page={page}",
            f"/changes/?page={page}",
            f"/search/?q=magnesium&page={page}",
            f"/api/v1/forms/?page={page}",
        ]:
            self.assert_no_server_error(url)

    @FUZZ
    @given(query=st.text(max_size=300))
    def test_search_queries(self, query):
        self.assert_no_server_error(f"/search/?q={quote(query)}")

    @FUZZ
    @given(value=anything)
    def test_filters_and_exports(self, value):
        value = quote(value)
        for url in [
            f"/changes/?form={value}",
            f"/forms/compare/?forms={value}",
            f"/forms/compare/?forms=magnesium-citrate,{value}",
            f"/citations/export.ris?form={value}",
            f"/citations/export.bib?form={value}",
            f"/citations/export.json?form={value}",
            f"/citations/{value}/",
        ]:
            self.assert_no_server_error(url)
