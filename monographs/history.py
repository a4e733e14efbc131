"""
Who changed content and why, for every row simple-history records.

A multi-row write (an admin save with its inlines, a seed load, an import)
runs inside ``change_context(reason=..., user=...)`` so that every
historical row it creates carries the same reason and author, without each
caller having to set ``_change_reason`` on each instance.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from simple_history.models import HistoricalRecords


@dataclass(frozen=True)
class ChangeContext:
    reason: str
    user: object = None


_current = ContextVar("mgref_change_context", default=None)


@contextmanager
def change_context(*, reason, user=None):
    token = _current.set(ChangeContext(reason=reason, user=user))
    try:
        yield
    finally:
        _current.reset(token)


def current_change_context():
    return _current.get()


class ContentHistory(HistoricalRecords):
    """HistoricalRecords that fall back to the active change context."""

    def get_change_reason_for_object(self, instance, history_type, using):
        reason = super().get_change_reason_for_object(instance, history_type, using)
        if reason:
            return reason
        context = _current.get()
        return context.reason if context else None

    def get_history_user(self, instance):
        context = _current.get()
        if (
            context is not None
            and context.user is not None
            and not hasattr(instance, "_history_user")
        ):
            return context.user
        return super().get_history_user(instance)
