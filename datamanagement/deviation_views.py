"""The pages of the protocol deviation log: the log (filters, CSV), the ethics committee's
listing (page, CSV), one deviation, recording and correcting one by hand, reviewing any."""

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, ListView, TemplateView

from datamanagement import deviation_log, deviations
from datamanagement import deviation_selectors as selectors
from datamanagement import deviation_services as services
from datamanagement.deviation_forms import DeviationFilterForm, DeviationForm, ReviewForm
from datamanagement.models import DeviationReview, ProtocolDeviation
from inkt_trial.api import csv_response
from inkt_trial.views import PatientFormView, Permission, ServiceFormMixin

VIEW = "datamanagement.view_protocoldeviation"


def _filtered(request, form_class=DeviationFilterForm):
    """The filter form and the log's entries it selects (none while a filter is refused)."""
    form = form_class(request.GET)
    return form, selectors.log(**form.filters()) if form.is_valid() else []


class DeviationLogView(Permission, ListView):
    """Every deviation, derived and recorded, filtered by patient, classification, category
    and date; `?format=csv` gives the same rows."""

    permission_required = VIEW
    template_name = "datamanagement/deviations.html"
    paginate_by = 100

    def get(self, request, *args, **kwargs):
        self.filter_form, self.found = _filtered(request)
        if request.GET.get("format") == "csv":
            return csv_response(
                [deviation_log.csv_row(e) for e in self.found],
                deviation_log.LOG_HEADER,
                "protocol-deviations.csv",
            )
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return self.found

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter_form=self.filter_form, **kwargs)


class EthicsCommitteeView(Permission, TemplateView):
    """The ethics committee's listing (deviation_log.ethics_committee) for a period: major
    deviations one by one, minor ones counted per category; the CSV holds the major ones."""

    permission_required = VIEW
    template_name = "datamanagement/ethics_committee.html"

    def get(self, request, *args, **kwargs):
        form, found = _filtered(request)
        majors, minors = deviation_log.ethics_committee(found)
        if request.GET.get("format") == "csv":
            return csv_response(
                [deviation_log.ec_row(e) for e in majors],
                deviation_log.EC_HEADER,
                "protocol-deviations-ethics-committee.csv",
            )
        return self.render_to_response(
            self.get_context_data(filter_form=form, majors=majors, minors=minors, **kwargs)
        )


class EntryMixin:
    """A page about one deviation of the log, named by its key."""

    @cached_property
    def entry(self) -> deviation_log.Entry:
        found = selectors.entry(self.kwargs["key"])
        if found is None:
            raise Http404
        return found

    @cached_property
    def record(self):
        """The recorded deviation, or the derived one's review (None before it)."""
        if self.entry.source == deviations.RECORDED:
            return ProtocolDeviation.objects.select_related(
                "recorded_by", "classified_by", "patient"
            ).get(number=self.entry.key)
        return (
            DeviationReview.objects.select_related("reviewed_by").filter(key=self.entry.key).first()
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            entry=self.entry,
            record=self.record,
            rule=deviations.RULES.get(self.entry.rule),
            history_url=history_url(self.record),
            **kwargs,
        )


def history_url(record) -> str | None:
    if isinstance(record, ProtocolDeviation):
        return reverse("datamanagement:deviation_history", args=[record.pk])
    if isinstance(record, DeviationReview):
        return reverse("datamanagement:deviation_review_history", args=[record.pk])
    return None


class DeviationDetailView(EntryMixin, Permission, TemplateView):
    permission_required = VIEW
    template_name = "datamanagement/deviation.html"


class DeviationCreateView(PatientFormView):
    """A deviation recorded by hand for one patient (the coordinator, the data manager)."""

    permission_required = "datamanagement.add_protocoldeviation"
    template_name = "dosing/form.html"
    success_message = "Protocol deviation recorded."

    def get_form(self, form_class=None):
        return DeviationForm(
            can_classify=self.request.user.has_perm(services.CLASSIFY), **self.get_form_kwargs()
        )

    def save(self, data):
        return services.deviation_record(patient=self.patient, by=self.request.user, **data)

    def success_redirect(self, record):
        return redirect("datamanagement:deviation", key=record.number)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Record a protocol deviation", **kwargs)


class DeviationCorrectView(EntryMixin, ServiceFormMixin, Permission, FormView):
    """Correct a deviation recorded by hand, with the reason (a derived one is corrected in
    the records it comes from)."""

    permission_required = "datamanagement.change_protocoldeviation"
    template_name = "datamanagement/deviation_form.html"
    success_message = "Protocol deviation corrected."

    def get_form(self, form_class=None):
        if self.entry.source != deviations.RECORDED:
            raise Http404
        kwargs = self.get_form_kwargs()
        # the initial values on a POST too: a classification the user may not change is read
        # from them
        kwargs["initial"] = {f: getattr(self.record, f) for f in services.ENTERED}
        return DeviationForm(
            with_reason=True, can_classify=self.request.user.has_perm(services.CLASSIFY), **kwargs
        )

    def save(self, data):
        return services.deviation_correct(deviation=self.record, by=self.request.user, **data)

    def success_redirect(self, record):
        return redirect("datamanagement:deviation", key=record.number)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Correct the deviation", **kwargs)


class DeviationReviewView(EntryMixin, ServiceFormMixin, Permission, FormView):
    """The data manager's or investigator's review of any deviation: the classification
    confirmed or changed, the follow-up recorded."""

    permission_required = "datamanagement.classify_deviation"
    template_name = "datamanagement/deviation_form.html"
    success_message = "Review saved."

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        if self.request.method != "POST":
            follow = self.entry.follow
            kwargs["initial"] = {"classification": self.entry.classification}
            if follow is not None:
                kwargs["initial"].update({f: getattr(follow, f) for f in services.FOLLOW_FIELDS})
        return ReviewForm(**kwargs)

    def save(self, data):
        return services.deviation_review(key=self.entry.key, by=self.request.user, **data)

    def success_redirect(self, entry):
        return redirect("datamanagement:deviation", key=entry.key)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Review the deviation", **kwargs)
