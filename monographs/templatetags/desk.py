"""The editorial desk on the admin home (monographs.admin.dashboard)."""

from django import template

from monographs.admin.dashboard import dashboard

register = template.Library()


@register.simple_tag(takes_context=True)
def editorial_dashboard(context):
    request = context.get("request")
    return dashboard(request.user) if request is not None else None
