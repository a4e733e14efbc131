from django.db.models import Count
from django.http import Http404, HttpResponsePermanentRedirect
from django.views.generic import DetailView, ListView, TemplateView

from monographs.models import Citation, Indication, MagnesiumForm, SideEffect, Synonym
from monographs.pages import MonographPage


class HomeView(TemplateView):
    template_name = "monographs/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            forms=MagnesiumForm.objects.all(),
            indications=Indication.objects.annotate(n_forms=Count("evidence")).filter(
                n_forms__gt=0
            ),
            **kwargs,
        )


class FormListView(ListView):
    model = MagnesiumForm
    context_object_name = "forms"


class FormDetailView(DetailView):
    context_object_name = "form"

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            synonym = (
                Synonym.objects.select_related("form")
                .filter(slug=kwargs["slug"])
                .first()
            )
            if synonym is None:
                raise
            return HttpResponsePermanentRedirect(synonym.form.get_absolute_url())

    def get_queryset(self):
        return MagnesiumForm.objects.for_detail_page()

    def get_context_data(self, **kwargs):
        return super().get_context_data(page=MonographPage(self.object), **kwargs)


class IndicationDetailView(DetailView):
    model = Indication

    def get_context_data(self, **kwargs):
        evidence = self.object.evidence.select_related("form").order_by("form__name")
        return super().get_context_data(evidence=evidence, **kwargs)


class SideEffectDetailView(DetailView):
    model = SideEffect

    def get_context_data(self, **kwargs):
        reports = self.object.reports.select_related("form").order_by("form__name")
        return super().get_context_data(reports=reports, **kwargs)


class CitationDetailView(DetailView):
    model = Citation
