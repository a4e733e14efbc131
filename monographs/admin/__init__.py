from django.contrib import admin

from . import content, monographs  # noqa: F401  (registers the admins)

# Staff should know which site's admin they are in (not "Django administration").
admin.site.site_header = "mgref editorial desk"
admin.site.site_title = "mgref editorial desk"
admin.site.index_title = "Monographs, citations and accounts"
