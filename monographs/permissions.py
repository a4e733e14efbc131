def can_see_drafts(user):
    """Staff who may read unapproved revisions, previews and the review queue."""
    return bool(
        user.is_active
        and user.is_staff
        and user.has_perm("monographs.view_magnesiumform")
    )


def can_publish(user):
    return bool(
        user.is_active
        and user.is_staff
        and user.has_perm("monographs.publish_magnesiumform")
    )
