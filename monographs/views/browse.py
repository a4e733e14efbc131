from decimal import Decimal

from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from monographs.findings import findings_for, indirect_studies
from monographs.models import FormSideEffect, Interaction
from monographs.selectors import (
    published_forms,
    published_monographs,
    published_rows,
    published_topics,
)

MAX_COMPARED = 4
CHART_WIDTH = 300


def elemental_chart(forms):
    """Bars for an inline SVG chart of elemental magnesium, largest first."""
    ranked = sorted(forms, key=lambda form: form.elemental_mg_percent, reverse=True)
    bars = []
    for index, form in enumerate(ranked):
        width = round(CHART_WIDTH * form.elemental_mg_percent / Decimal(100), 1)
        bars.append(
            {"form": form, "y": index * 26, "width": width, "value_x": width + 196}
        )
    return bars


class HomeView(TemplateView):
    template_name = "monographs/home.html"

    def get_context_data(self, **kwargs):
        monographs = published_monographs()
        return super().get_context_data(
            forms=[monograph.form for monograph in monographs],
            indications=list(published_topics("indication", monographs).values()),
            **kwargs,
        )


class FormListView(TemplateView):
    template_name = "monographs/magnesiumform_list.html"

    def get_context_data(self, **kwargs):
        forms = published_forms()
        return super().get_context_data(
            forms=forms,
            chart=elemental_chart(forms),
            chart_height=len(forms) * 26,
            **kwargs,
        )


@require_safe
def form_compare(request):
    slugs = [
        slug.strip() for slug in request.GET.get("forms", "").split(",") if slug.strip()
    ]
    forms = {form.slug: form for form in published_forms()}
    problem = None
    if len(slugs) < 2:
        problem = "Choose at least two forms to compare, e.g. ?forms=magnesium-glycinate,magnesium-citrate."
    elif len(slugs) > MAX_COMPARED:
        problem = f"You asked for {len(slugs)} forms; the comparison fits at most {MAX_COMPARED}."
    elif len(set(slugs)) != len(slugs):
        problem = "Each form can appear only once in a comparison."
    else:
        unknown = [slug for slug in slugs if slug not in forms]
        if unknown:
            problem = f"No published form has the address {', '.join(unknown)}."
    if problem:
        return render(
            request,
            "monographs/magnesiumform_compare.html",
            {"problem": problem, "all_forms": forms.values()},
            status=400,
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
    common = {
        form.pk: [
            row
            for row in side_effects
            if row.form_id == form.pk
            and row.frequency == FormSideEffect.Frequency.COMMON
        ]
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
        },
    )


class TopicListView(TemplateView):
    """Every use (or side effect) a published monograph names, as approved."""

    topic = None  # "indication" or "side_effect"
    context_object_name = None

    def get_context_data(self, **kwargs):
        topics = list(published_topics(self.topic).values())
        return super().get_context_data(
            **{self.context_object_name: topics, "object_list": topics}, **kwargs
        )


class TopicDetailView(TemplateView):
    """One use (or side effect): each published form's rows that name it."""

    topic = None
    kind = None  # the row kind naming the topic
    rows_name = None
    topic_context_name = None

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
            **kwargs,
        )

    def extra_context_for(self, rows):
        return {}


class IndicationListView(TopicListView):
    template_name = "monographs/indication_list.html"
    topic = "indication"
    context_object_name = "indications"


class IndicationDetailView(TopicDetailView):
    """Each form's evidence for one use, crediting a form only with studies of
    its own salt; the other studies are listed apart, as indirect evidence."""

    template_name = "monographs/indication_detail.html"
    topic, kind, rows_name = "indication", "evidence", "evidence"
    topic_context_name = "indication"

    def extra_context_for(self, rows):
        by_form = {monograph.form.pk: monograph for monograph in self.monographs}
        uses = [findings_for(row, by_form[row.form_id]) for row in rows]
        return {"uses": uses, "indirect": indirect_studies(uses)}


class SideEffectListView(TopicListView):
    template_name = "monographs/sideeffect_list.html"
    topic = "side_effect"
    context_object_name = "side_effects"


class SideEffectDetailView(TopicDetailView):
    template_name = "monographs/sideeffect_detail.html"
    topic, kind, rows_name = "side_effect", "side_effects", "reports"
    topic_context_name = "sideeffect"


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
        return super().get_context_data(interactions=interactions, **kwargs)
