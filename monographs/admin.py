from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from monographs import models

for model in [
    models.Citation,
    models.MagnesiumForm,
    models.Synonym,
    models.Indication,
    models.SideEffect,
    models.Evidence,
    models.FormSideEffect,
    models.Dose,
    models.Interaction,
    models.Precaution,
    models.FAQ,
]:
    admin.site.register(model, SimpleHistoryAdmin)
