from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import path

from monographs.admin.base import ContentAdmin
from monographs.admin.forms import MonographRowForm
from monographs.admin.merge import MergesStaleSaves, PostShape
from monographs.admin.references import reference_import_view
from monographs.models import (
    FAQ,
    Citation,
    Dose,
    Evidence,
    FormSideEffect,
    Indication,
    Interaction,
    Precaution,
    ReviewEvent,
    Revision,
    SideEffect,
    Synonym,
)
from monographs.permissions import can_see_drafts
from monographs.schema import ROW_KINDS, citing_relations


def _citing_count(relation):
    """How many rows of one kind cite the citation (a correlated subquery)."""
    through = Citation._meta.get_field(relation).through
    rows = (
        through.objects.filter(citation_id=OuterRef("pk"))
        .order_by()
        .values("citation_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


class UsageFilter(admin.SimpleListFilter):
    title = "use"
    parameter_name = "used"

    def lookups(self, request, model_admin):
        return [("yes", "Cited by a monograph row"), ("no", "Not attached to any row")]

    def queryset(self, request, queryset):
        attached = Q()
        for relation in citing_relations():
            attached |= Q(**{f"{relation}__isnull": False})
        if self.value() == "yes":
            return queryset.filter(attached).distinct()
        if self.value() == "no":
            return queryset.exclude(attached)
        return queryset


class CompletenessFilter(admin.SimpleListFilter):
    title = "completeness"
    parameter_name = "complete"

    def lookups(self, request, model_admin):
        return [
            ("no", "Missing a title or authors"),
            ("yes", "With title and authors"),
        ]

    def queryset(self, request, queryset):
        incomplete = Q(title="") | (Q(authors="") & Q(group_author=""))
        if self.value() == "no":
            return queryset.filter(incomplete)
        if self.value() == "yes":
            return queryset.exclude(incomplete)
        return queryset


@admin.register(Citation)
class CitationAdmin(ContentAdmin):
    list_display = [
        "key",
        "short_title",
        "journal",
        "year",
        "pmid",
        "doi",
        "rows",
        "missing",
    ]
    list_filter = ["publication_type", CompletenessFilter, UsageFilter, "year"]
    # Django 6's default for an address typed without a scheme, chosen now.
    formfield_overrides = {
        **ContentAdmin.formfield_overrides,
        models.URLField: {"assume_scheme": "https"},
    }
    # The annotations below group the query, which drops Meta.ordering.
    ordering = ["key"]
    search_fields = [
        "key",
        "title",
        "authors",
        "group_author",
        "journal",
        "pmid",
        "doi",
    ]
    fieldsets = [
        (None, {"fields": ["key", "publication_type"]}),
        ("Who and what", {"fields": ["authors", "group_author", "title"]}),
        (
            "Where",
            {"fields": ["journal", "publisher", "year", "volume", "issue", "pages"]},
        ),
        ("Identifiers", {"fields": ["pmid", "pmcid", "doi", "url"]}),
        ("For editors", {"fields": ["note"]}),
        ("Save", {"fields": ["edit_summary"]}),
    ]

    def get_queryset(self, request):
        # One subquery a kind of row: joining them all would multiply each
        # citation's rows by every other kind's before counting.
        counts = {
            f"n_{relation}": _citing_count(relation) for relation in citing_relations()
        }
        return super().get_queryset(request).annotate(**counts)

    @admin.display(description="title")
    def short_title(self, citation):
        return citation.title[:80] or "—"

    @admin.display(description="rows citing it")
    def rows(self, citation):
        return sum(
            getattr(citation, f"n_{relation}") for relation in citing_relations()
        )

    @admin.display(description="missing")
    def missing(self, citation):
        """Flagged: readers and citation managers get a poor label without these."""
        return ", ".join(citation.missing) or "—"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.reference_import),
                name="monographs_citation_import",
            ),
            *super().get_urls(),
        ]

    def reference_import(self, request):
        return reference_import_view(request, self)

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None and obj.missing and request.method == "GET":
            messages.warning(
                request,
                f"This citation has no {' and no '.join(obj.missing)}: readers see "
                "it by whatever else is known, and citation managers show it as "
                "incomplete. Fill it from the source.",
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


class TopicUseFilter(admin.SimpleListFilter):
    title = "use"
    parameter_name = "used"
    relation = None

    def lookups(self, request, model_admin):
        return [("yes", "On a monograph"), ("no", "On no monograph")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(**{f"{self.relation}__isnull": False}).distinct()
        if self.value() == "no":
            return queryset.filter(**{f"{self.relation}__isnull": True})
        return queryset


class IndicationUseFilter(TopicUseFilter):
    relation = "evidence"


class SideEffectUseFilter(TopicUseFilter):
    relation = "reports"


@admin.register(Indication)
class IndicationAdmin(ContentAdmin):
    list_display = ["name", "slug"]
    list_filter = [IndicationUseFilter]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SideEffect)
class SideEffectAdmin(ContentAdmin):
    list_display = ["name", "slug"]
    list_filter = [SideEffectUseFilter]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class RowMerges(MergesStaleSaves):
    """A row's own page: a save from an older revision is merged like the
    monograph's (the row's fields only)."""

    change_form_template = "admin/monographs/row_change_form.html"

    def monograph_pk(self, obj):
        return obj.form_id

    def post_shape(self, request, obj):
        kind = next(k.name for k in ROW_KINDS if k.model is type(obj))
        return PostShape(
            main_kind=kind,
            main_row_id=obj.pk,
            main_fields=dict(self.get_form(request, obj, change=True).base_fields),
        )


class RowStaysWithItsMonograph:
    """A row's own page cannot move it to another monograph: only the
    destination would record the move (and the revision of both matters)."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "form"] if obj is not None else fields


class MonographRowAdmin(RowMerges, RowStaysWithItsMonograph, ContentAdmin):
    """Rows are edited inline on their monograph; these lists are for finding them."""

    form = MonographRowForm
    list_select_related = ["form"]
    autocomplete_fields = ["citations"]


@admin.register(Synonym)
class SynonymAdmin(RowMerges, RowStaysWithItsMonograph, ContentAdmin):
    form = MonographRowForm
    list_display = ["name", "slug", "form"]
    list_filter = ["form"]
    list_select_related = ["form"]
    search_fields = ["name", "form__name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Evidence)
class EvidenceAdmin(MonographRowAdmin):
    list_display = [
        "form",
        "indication",
        "outcome",
        "direction",
        "certainty",
        "rated_by",
    ]
    list_select_related = ["form", "indication"]
    list_filter = ["certainty", "direction", "indication"]
    search_fields = ["form__name", "indication__name", "outcome", "summary"]
    autocomplete_fields = ["indication", "citations"]


@admin.register(FormSideEffect)
class FormSideEffectAdmin(MonographRowAdmin):
    list_display = ["form", "side_effect", "frequency", "seriousness"]
    list_select_related = ["form", "side_effect"]
    list_filter = ["frequency", "seriousness"]
    search_fields = ["form__name", "side_effect__name"]
    autocomplete_fields = ["side_effect", "citations"]


@admin.register(Dose)
class DoseAdmin(MonographRowAdmin):
    list_display = [
        "form",
        "population",
        "age_band",
        "life_stage",
        "route",
        "purpose",
        "minimum_mg",
        "maximum_mg",
        "exceeds_ul_acknowledged",
    ]
    list_filter = ["age_band", "life_stage", "route", "exceeds_ul_acknowledged"]
    search_fields = ["form__name", "population", "purpose"]


@admin.register(Interaction)
class InteractionAdmin(MonographRowAdmin):
    list_display = ["form", "drug_class", "significance"]
    list_filter = ["significance"]
    search_fields = ["form__name", "drug_class", "examples"]


@admin.register(Precaution)
class PrecautionAdmin(MonographRowAdmin):
    list_display = ["form", "label", "kind"]
    list_filter = ["kind"]
    search_fields = ["form__name", "label", "text"]


@admin.register(FAQ)
class FAQAdmin(RowMerges, RowStaysWithItsMonograph, ContentAdmin):
    form = MonographRowForm
    list_display = ["question", "form", "position"]
    list_filter = ["form"]
    list_select_related = ["form"]
    search_fields = ["question", "answer", "form__name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened: never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Revisions hold drafts and editors' notes, review events reviewers'
        # comments: for those who may read drafts, not every staff account.
        return can_see_drafts(request.user)


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    # By the name the revision holds: a deleted monograph's revisions stay
    # listed (its form row is gone, and the foreign key has no constraint).
    list_display = ["name", "number", "created_at", "author", "summary"]
    list_filter = ["deleted", "created_at"]
    list_select_related = ["user"]
    search_fields = ["summary", "name"]
    date_hierarchy = "created_at"


@admin.register(ReviewEvent)
class ReviewEventAdmin(ReadOnlyAdmin):
    list_display = [
        "monograph",
        "revision_number",
        "action",
        "user",
        "created_at",
        "comment",
    ]
    list_select_related = ["revision", "user"]
    list_filter = ["action"]
    search_fields = ["comment", "revision__name"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("revision__document")

    @admin.display(description="monograph", ordering="revision__name")
    def monograph(self, event):
        return event.revision.name

    @admin.display(description="revision", ordering="revision__number")
    def revision_number(self, event):
        return event.revision.number
