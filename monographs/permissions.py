def can_see_drafts(user):
    """Staff who may read unapproved revisions, previews and the review queue."""
    return bool(
        user.is_active
        and user.is_staff
        and user.has_perm("monographs.view_magnesiumform")
    )


def can_edit(user):
    """Staff who write content: editors, reviewers and superusers, not a
    staff account in no group."""
    return bool(
        user.is_active
        and user.is_staff
        and user.has_perm("monographs.change_magnesiumform")
    )


def can_publish(user):
    return bool(
        user.is_active
        and user.is_staff
        and user.has_perm("monographs.publish_magnesiumform")
    )
