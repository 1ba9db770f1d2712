from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from enrollment.models import Patient, Screening


class ReadOnlyClinicalAdmin(SimpleHistoryAdmin):
    """The data manager may browse records and their history here; every write goes through the
    application's pages or API, where the reason for change is asked for."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyClinicalAdmin):
    list_display = [
        "screening_number",
        "screening_date",
        "outcome",
        "child_pugh_class",
        "confirmed_at",
    ]
    list_filter = ["outcome", "child_pugh_class"]
    search_fields = ["screening_number"]


@admin.register(Patient)
class PatientAdmin(ReadOnlyClinicalAdmin):
    list_display = ["study_id", "screening", "enrolled_at"]
    search_fields = ["study_id"]
