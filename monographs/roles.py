"""The editorial roles, as groups with exactly the permissions they need.

Migration 0002 created them; ``sync_roles`` restores them (after a test
database flush, or if someone edited the groups by hand).
"""

from django.contrib.auth.models import Group, Permission

EDITORS = "Editors"
REVIEWERS = "Reviewers"

CONTENT_MODELS = [
    "citation",
    "magnesiumform",
    "synonym",
    "indication",
    "sideeffect",
    "evidence",
    "formsideeffect",
    "dose",
    "interaction",
    "precaution",
    "faq",
    "study",
]
# Rows that only exist inside a monograph: editors remove them from the inline.
MONOGRAPH_ROWS = [
    "synonym",
    "evidence",
    "formsideeffect",
    "dose",
    "interaction",
    "precaution",
    "faq",
    "study",
]

EDITOR_PERMISSIONS = [
    f"{action}_{model}"
    for model in CONTENT_MODELS
    for action in ("view", "add", "change")
] + [f"delete_{model}" for model in MONOGRAPH_ROWS]

REVIEWER_PERMISSIONS = [
    *EDITOR_PERMISSIONS,
    *(f"delete_{model}" for model in CONTENT_MODELS if model not in MONOGRAPH_ROWS),
    "publish_magnesiumform",
]


def sync_roles():
    for name, codenames in [
        (EDITORS, EDITOR_PERMISSIONS),
        (REVIEWERS, REVIEWER_PERMISSIONS),
    ]:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="monographs", codename__in=codenames
            )
        )
