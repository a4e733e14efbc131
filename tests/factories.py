from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from monographs import models
from monographs.roles import EDITORS, REVIEWERS


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class StaffFactory(UserFactory):
    is_staff = True


class EditorFactory(StaffFactory):
    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=EDITORS))


class ReviewerFactory(StaffFactory):
    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=REVIEWERS))


class SuperuserFactory(StaffFactory):
    is_superuser = True


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Citation

    key = factory.Sequence(lambda n: f"author{n}2020")
    authors = "Doe J, Roe R"
    title = factory.Sequence(lambda n: f"A trial of magnesium number {n}")
    journal = "Magnes Res"
    year = 2020
    volume = "1"
    issue = "2"
    pages = "3-4"
    pmid = factory.Sequence(lambda n: str(1000000 + n))
    doi = factory.Sequence(lambda n: f"10.1000/test.{n}")


class MagnesiumFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MagnesiumForm

    name = factory.Sequence(lambda n: f"Magnesium test salt {n}")
    slug = factory.Sequence(lambda n: f"magnesium-test-salt-{n}")
    category = models.MagnesiumForm.Category.ORGANIC_SALT
    formula_basis = "MgX2"
    elemental_mg_percent = Decimal("14.10")
    summary = "A test form."


class SynonymFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Synonym

    form = factory.SubFactory(MagnesiumFormFactory)
    name = factory.Sequence(lambda n: f"Magnesium other name {n}")
    slug = factory.Sequence(lambda n: f"magnesium-other-name-{n}")


class IndicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Indication

    name = factory.Sequence(lambda n: f"Outcome {n}")
    slug = factory.Sequence(lambda n: f"outcome-{n}")


class SideEffectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SideEffect

    name = factory.Sequence(lambda n: f"Symptom {n}")
    slug = factory.Sequence(lambda n: f"symptom-{n}")


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Evidence

    form = factory.SubFactory(MagnesiumFormFactory)
    indication = factory.SubFactory(IndicationFactory)
    direction = models.Evidence.Direction.BENEFIT
    certainty = models.Evidence.Certainty.LOW


class FormSideEffectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FormSideEffect

    form = factory.SubFactory(MagnesiumFormFactory)
    side_effect = factory.SubFactory(SideEffectFactory)
    frequency = models.FormSideEffect.Frequency.COMMON
    seriousness = models.FormSideEffect.Seriousness.MILD


class DoseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Dose

    form = factory.SubFactory(MagnesiumFormFactory)
    population = "Adults"
    age_band = models.Dose.AgeBand.ADULTS
    purpose = "General supplementation"
    minimum_mg = 125
    maximum_mg = 300


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Interaction

    form = factory.SubFactory(MagnesiumFormFactory)
    drug_class = "Tetracycline antibiotics"
    significance = models.Interaction.Significance.MODERATE
    mechanism = "Chelation reduces absorption."
    management = "Take the antibiotic 2 h before or 4–6 h after magnesium."


class PrecautionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Precaution

    form = factory.SubFactory(MagnesiumFormFactory)
    label = "Kidney disease"
    text = "Use only under medical supervision."


class FAQFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FAQ

    form = factory.SubFactory(MagnesiumFormFactory)
    question = "Can I take it with food?"
    answer = "Yes."


def publish(form, *, user=None):
    """Approve the monograph's latest revision, as a reviewer would."""
    from monographs.models import Revision
    from monographs.services import monograph_approve

    return monograph_approve(
        form=form, user=user, revision_number=Revision.objects.latest_number(form.pk)
    )


class StudyFactory(factory.django.DjangoModelFactory):
    """A study of the use's own form salt unless told otherwise."""

    class Meta:
        model = models.Study

    evidence = factory.SubFactory(EvidenceFactory)
    form = factory.SelfAttribute("evidence.form")
    name = factory.Sequence(lambda n: f"Trial {n}")
    design = models.Study.Design.RCT
    salt = "glycinate"
    outcome = "Sleep quality"
    result = models.Study.Result.IMPROVED
