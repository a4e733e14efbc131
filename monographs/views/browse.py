from decimal import Decimal

from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, ListView, TemplateView

from monographs.models import (
    Evidence,
    FormSideEffect,
    Indication,
    Interaction,
    SideEffect,
)
from monographs.snapshots import as_instance, published_forms, published_records

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


TOPICS = {"indication": Indication, "side_effect": SideEffect}


def _published_rows(model, forms, **filters):
    """Rows of ``model`` as published, with their form and topic attached."""
    rows = [as_instance(record) for record in published_records(model, **filters)]
    for name, topic_model in TOPICS.items():
        if hasattr(model, name):
            topics = topic_model.objects.in_bulk(
                {getattr(row, f"{name}_id") for row in rows}
            )
            for row in rows:
                setattr(row, name, topics[getattr(row, f"{name}_id")])
    for row in rows:
        row.form = forms[row.form_id]
    return rows


class HomeView(TemplateView):
    template_name = "monographs/home.html"

    def get_context_data(self, **kwargs):
        indication_ids = published_records(Evidence).values("indication_id")
        return super().get_context_data(
            forms=published_forms(),
            indications=Indication.objects.filter(pk__in=indication_ids),
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


@require_GET
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
    by_id = {form.pk: form for form in chosen}
    evidence = _published_rows(Evidence, by_id, form_id__in=by_id)
    side_effects = _published_rows(FormSideEffect, by_id, form_id__in=by_id)
    indications = Indication.objects.filter(
        pk__in={row.indication_id for row in evidence}
    )
    matrix = [
        (
            indication,
            [
                next(
                    (
                        row
                        for row in evidence
                        if row.form_id == form.pk and row.indication_id == indication.pk
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


class IndicationListView(ListView):
    context_object_name = "indications"

    def get_queryset(self):
        return Indication.objects.filter(
            pk__in=published_records(Evidence).values("indication_id")
        )


class IndicationDetailView(DetailView):
    model = Indication

    def get_context_data(self, **kwargs):
        forms = {form.pk: form for form in published_forms()}
        evidence = _published_rows(Evidence, forms, indication_id=self.object.pk)
        evidence.sort(key=lambda row: row.form.name)
        return super().get_context_data(evidence=evidence, **kwargs)


class SideEffectListView(ListView):
    context_object_name = "side_effects"

    def get_queryset(self):
        return SideEffect.objects.filter(
            pk__in=published_records(FormSideEffect).values("side_effect_id")
        )


class SideEffectDetailView(DetailView):
    model = SideEffect

    def get_context_data(self, **kwargs):
        forms = {form.pk: form for form in published_forms()}
        reports = _published_rows(FormSideEffect, forms, side_effect_id=self.object.pk)
        reports.sort(key=lambda row: row.form.name)
        return super().get_context_data(reports=reports, **kwargs)


class InteractionListView(TemplateView):
    """Each drug class that interacts with magnesium, and the forms that list it."""

    template_name = "monographs/interaction_list.html"

    def get_context_data(self, **kwargs):
        forms = {form.pk: form for form in published_forms()}
        groups = {}
        for row in _published_rows(Interaction, forms):
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
            group["all_forms"] = len(group["forms"]) == len(forms)
        return super().get_context_data(interactions=interactions, **kwargs)
