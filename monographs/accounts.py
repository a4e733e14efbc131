import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from monographs.roles import EDITORS, REVIEWERS, sync_roles

DEMO_ACCOUNTS = [
    ("editor", EDITORS),
    ("reviewer", REVIEWERS),
    ("admin", None),
]


@transaction.atomic
def create_demo_accounts():
    """Create the missing demo accounts; return [(username, password)] for new ones."""
    User = get_user_model()
    sync_roles()
    created = []
    for username, group_name in DEMO_ACCOUNTS:
        if User.objects.filter(username=username).exists():
            continue
        password = secrets.token_urlsafe(12)
        if group_name is None:
            User.objects.create_superuser(username, f"{username}@example.com", password)
        else:
            user = User.objects.create_user(
                username,
                f"{username}@example.com",
                password,
                is_staff=True,
                first_name=username.capitalize(),
                last_name="Demo",
            )
            user.groups.add(Group.objects.get(name=group_name))
        created.append((username, password))
    return created
