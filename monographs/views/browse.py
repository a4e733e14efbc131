from django.core.validators import slug_re
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from monographs.findings import findings_for, indirect_studies
from monographs.models import FormSideEffect, Interaction
from monographs.selectors import (
    current_slug,
    published_forms,
    published_monographs,
    published_rows,
    published_topics,
)

MAX_COMPARED = 4


def trail(*steps):
    """Breadcrumbs from Home: (name, URL name or address) each, the page last."""
    return [
        (name, target if target.startswith("/") else reverse(target))
        for name, target in (("Home", "monographs:home"), *steps)
    ]


def elemental_chart(forms):
    """Bars of the elemental magnesium chart, largest first.

    Each bar's width is the form's percentage, drawn on a track that stands
    for the whole compound (an SVG viewBox 100 wide).
    """
    ranked = sorted(forms, key=lambda form: form.elemental_mg_percent, reverse=True)
    return [
        {"form": form, "width": round(form.elemental_mg_percent, 1)} for form in ranked
    ]


class HomeView(TemplateView):
    template_name = "monographs/home.html"

    def get_context_data(self, **kwargs):
        monographs = published_monographs(kinds=(), citations=False)
        return super().get_context_data(
            forms=[monograph.form for monograph in monographs],
            indications=list(published_topics("indication", monographs).values()),
            **kwargs,
        )


class FormListView(TemplateView):
    template_name = "monographs/magnesiumform_list.html"

    def get_context_data(self, **kwargs):
        forms = published_forms(kinds=(), citations=False)
        return super().get_context_data(
            forms=forms,
            chart=elemental_chart(forms),
            max_compared=MAX_COMPARED,
            crumbs=trail(("Forms", "monographs:form-list")),
            **kwargs,
        )


def compared_slugs(request):
    """The forms ?forms= names, in order: repeated (?forms=a&forms=b, as the
    forms list's checkboxes send them), separated by commas (?forms=a,b), or
    both."""
    return [
        slug.strip()
        for value in request.GET.getlist("forms")
        for slug in value.split(",")
        if slug.strip()
    ]


def compare_query(slugs):
    """The query string comparing ``slugs``, one ?forms= each."""
    return urlencode([("forms", slug) for slug in slugs])


def compare_problem(slugs, forms):
    """Why ``slugs`` cannot be compared, in words, or None."""
    if len(slugs) < 2:
        return (
            "Choose at least two forms to compare: tick them below, or give "
            "their addresses, e.g. ?forms=magnesium-glycinate&forms=magnesium-citrate."
        )
    if len(slugs) > MAX_COMPARED:
        return (
            f"You asked for {len(slugs)} forms; the comparison fits at most "
            f"{MAX_COMPARED}."
        )
    if len(set(slugs)) != len(slugs):
        return "Each form can appear only once in a comparison."
    unknown = [slug for slug in slugs if slug not in forms]
    if unknown:
        return f"No published form has the address {', '.join(unknown)}."
    return None


@require_safe
def form_compare(request):
    slugs = compared_slugs(request)
    forms = {form.slug: form for form in published_forms()}
    if 2 <= len(slugs) <= MAX_COMPARED:
        moved = {
            slug: current_slug(slug)
            for slug in slugs
            if slug not in forms and slug_re.match(slug)
        }
        if any(moved.values()):
            # A former or a synonym's slug: the same comparison, named anew.
            current = [moved.get(slug) or slug for slug in slugs]
            return HttpResponsePermanentRedirect(
                f"{request.path}?{compare_query(current)}"
            )
    # Named from the parameters the page cache keys on, never the whole
    # query: another parameter would reach every reader of the cached page.
    crumbs = trail(
        ("Forms", "monographs:form-list"),
        (
            "Compare",
            f"{request.path}?{compare_query(slugs)}" if slugs else request.path,
        ),
    )
    # Opened without a choice (no ?forms= at all): the boxes to tick, no error.
    choosing = "forms" not in request.GET
    problem = None if choosing else compare_problem(slugs, forms)
    if choosing or problem:
        return render(
            request,
            "monographs/magnesiumform_compare.html",
            {
                "problem": problem,
                "choosing": choosing,
                "all_forms": forms.values(),
                "asked": set(slugs),
                "max_compared": MAX_COMPARED,
                "crumbs": crumbs,
            },
            status=400 if problem else 200,
        )
    chosen = [forms[slug] for slug in slugs]
    monographs = [form.monograph for form in chosen]
    evidence = [
        findings_for(row, form.monograph)
        for form in chosen
        for row in form.monograph.evidence
    ]
    side_effects = published_rows("side_effects", monographs)
    indications = published_topics("indication", monographs).values()
    matrix = [
        (
            indication,
            [
                next(
                    (
                        use
                        for use in evidence
                        if use.evidence.form_id == form.pk
                        and use.evidence.indication_id == indication.pk
                    ),
                    None,
                )
                for form in chosen
            ],
        )
        for indication in indications
    ]
    # Each form's common side effects, and whether its monograph lists any
    # side effect at all: one that lists none does not cover them yet, which
    # is not the same as having none.
    common = {
        form.pk: (
            [
                row
                for row in side_effects
                if row.form_id == form.pk
                and row.frequency == FormSideEffect.Frequency.COMMON
            ],
            any(row.form_id == form.pk for row in side_effects),
        )
        for form in chosen
    }
    return render(
        request,
        "monographs/magnesiumform_compare.html",
        {
            "forms": chosen,
            "matrix": matrix,
            "common_side_effects": [common[form.pk] for form in chosen],
            "all_forms": forms.values(),
            # Each column's "remove" link, while more than two remain.
            "remove_queries": [
                compare_query([other for other in slugs if other != slug])
                if len(slugs) > 2
                else None
                for slug in slugs
            ],
            "addable": [form for form in forms.values() if form.slug not in slugs]
            if len(slugs) < MAX_COMPARED
            else [],
            "max_compared": MAX_COMPARED,
            "crumbs": crumbs,
        },
    )


class TopicListView(TemplateView):
    """Every use (or side effect) a published monograph names, as approved."""

    topic = None  # "indication" or "side_effect"
    context_object_name = None
    crumb = None  # (name, URL name) of the list

    def get_context_data(self, **kwargs):
        topics = list(published_topics(self.topic).values())
        return super().get_context_data(
            **{self.context_object_name: topics, "object_list": topics},
            crumbs=trail(self.crumb),
            **kwargs,
        )


class TopicDetailView(TemplateView):
    """One use (or side effect): each published form's rows that name it."""

    topic = None
    kind = None  # the row kind naming the topic
    rows_name = None
    topic_context_name = None
    crumb = None  # (name, URL name) of the list

    def get(self, request, *args, **kwargs):
        self.monographs = published_monographs()
        current = published_topics(self.topic, self.monographs)
        slug = kwargs["slug"]
        self.found = next((t for t in current.values() if t.slug == slug), None)
        if self.found is None:
            # A page approved before the topic was renamed still links the
            # old address: send it to the current one.
            for monograph in self.monographs:
                for pk, instance in monograph.topics.get(self.topic, {}).items():
                    if instance.slug == slug and pk in current:
                        return HttpResponsePermanentRedirect(
                            current[pk].get_absolute_url()
                        )
            raise Http404("No published monograph names this topic.")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        topic = self.found
        rows = published_rows(
            self.kind, self.monographs, **{f"{self.topic}_id": topic.pk}
        )
        rows.sort(key=lambda row: row.form.name)
        return super().get_context_data(
            object=topic,
            **{self.topic_context_name: topic, self.rows_name: rows},
            **self.extra_context_for(rows),
            crumbs=trail(self.crumb, (topic.name, topic.get_absolute_url())),
            **kwargs,
        )

    def extra_context_for(self, rows):
        return {}


class IndicationListView(TopicListView):
    template_name = "monographs/indication_list.html"
    topic = "indication"
    context_object_name = "indications"
    crumb = ("Uses", "monographs:indication-list")


class IndicationDetailView(TopicDetailView):
    """Each form's evidence for one use, crediting a form only with studies of
    its own salt; the other studies are listed apart, as indirect evidence."""

    template_name = "monographs/indication_detail.html"
    topic, kind, rows_name = "indication", "evidence", "evidence"
    topic_context_name = "indication"
    crumb = ("Uses", "monographs:indication-list")

    def extra_context_for(self, rows):
        by_form = {monograph.form.pk: monograph for monograph in self.monographs}
        uses = [findings_for(row, by_form[row.form_id]) for row in rows]
        return {"uses": uses, "indirect": indirect_studies(uses)}


class SideEffectListView(TopicListView):
    template_name = "monographs/sideeffect_list.html"
    topic = "side_effect"
    context_object_name = "side_effects"
    crumb = ("Side effects", "monographs:side-effect-list")


class SideEffectDetailView(TopicDetailView):
    template_name = "monographs/sideeffect_detail.html"
    topic, kind, rows_name = "side_effect", "side_effects", "reports"
    topic_context_name = "sideeffect"
    crumb = ("Side effects", "monographs:side-effect-list")


class InteractionListView(TemplateView):
    """Each drug class that interacts with magnesium, and the forms that list it."""

    template_name = "monographs/interaction_list.html"

    def get_context_data(self, **kwargs):
        monographs = published_monographs()
        groups = {}
        for row in published_rows("interactions", monographs):
            key = (row.drug_class, row.significance, row.mechanism, row.management)
            groups.setdefault(key, {"row": row, "forms": []})["forms"].append(row.form)
        order = list(Interaction.Significance.values)
        interactions = sorted(
            groups.values(),
            key=lambda group: (
                order.index(group["row"].significance),
                group["row"].drug_class,
            ),
        )
        for group in interactions:
            group["forms"].sort(key=lambda form: form.name)
            group["all_forms"] = len(group["forms"]) == len(monographs)
        return super().get_context_data(
            interactions=interactions,
            crumbs=trail(("Interactions", "monographs:interaction-list")),
            **kwargs,
        )
