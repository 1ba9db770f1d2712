from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import ListView, TemplateView

from enrollment.eligibility import CRITERIA
from enrollment.models import Patient
from inkt_trial.errors import DomainError
from inkt_trial.views import Permission, add_domain_error
from randomization import protocol, selectors, services
from randomization.forms import CodesForm, EnrolmentLimitForm, GenerateForm, UploadForm
from randomization.models import AllocationSequence


class RandomizeView(Permission, TemplateView):
    """Confirm, then randomize one enrolled patient (the coordinator)."""

    permission_required = "randomization.add_allocation"
    template_name = "randomization/randomize.html"

    @cached_property
    def patient(self):
        return get_object_or_404(Patient.objects.select_related("screening"), **self.kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            patient=self.patient,
            enrolment=selectors.enrolment_state(),
            target=protocol.TARGET_PATIENTS,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        try:
            allocation = services.patient_randomize(patient=self.patient, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return self.get(request, *args, **kwargs)
        arm = selectors.arm_shown(request.user, allocation)
        messages.success(request, f"{self.patient} randomized to {arm}.")
        return redirect("enrollment:patient_detail", study_id=self.patient.study_id)


class AllocationListView(Permission, ListView):
    permission_required = "randomization.view_allocation"
    template_name = "randomization/allocation_list.html"
    paginate_by = 100

    def get_queryset(self):
        return selectors.allocation_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["rows"] = [(a, selectors.arm_shown(user, a)) for a in context["object_list"]]
        return context


class SequenceView(Permission, TemplateView):
    """The statistician's and the administrator's page: versions, generation, upload, slots."""

    permission_required = ("randomization.view_sequence", "randomization.view_allocationsequence")
    template_name = "randomization/sequence.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        active = selectors.active_sequence()
        may_create = user.has_perm("randomization.add_allocationsequence") and (
            active is None or user.has_perm("randomization.replace_sequence")
        )
        slots = []
        if active is not None:
            slots = list(
                active.slots.select_related("allocation__patient").order_by("stratum", "position")
            )
        return super().get_context_data(
            active=active,
            versions=selectors.sequence_list(),
            slots=slots,
            may_create=may_create,
            generate_form=kwargs.pop("generate_form", None) or GenerateForm(),
            upload_form=kwargs.pop("upload_form", None) or UploadForm(),
            codes_form=CodesForm(initial={"code_a_arm": active.code_a_arm} if active else None),
            may_map=user.has_perm("randomization.set_arm_codes"),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("randomization.add_allocationsequence"):
            return self.handle_no_permission()
        if "upload" in request.POST:
            form, name = UploadForm(request.POST, request.FILES), "upload_form"
        else:
            form, name = GenerateForm(request.POST), "generate_form"
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if name == "upload_form":
                    upload = data.pop("file")
                    if upload.size > 2_000_000:
                        raise DomainError(field_errors={"file": ["The file is larger than 2 MB."]})
                    raw = upload.read()
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        raise DomainError(
                            field_errors={"file": ["The file is not UTF-8 text."]}
                        ) from None
                    sequence = services.sequence_upload(by=request.user, csv_text=text, **data)
                else:
                    sequence = services.sequence_generate(by=request.user, **data)
            except DomainError as error:
                if "parameters" in error.field_errors:
                    error.field_errors = {None: error.field_errors["parameters"]}
                add_domain_error(form, error)
            else:
                messages.success(request, f"{sequence} is now in force.")
                return redirect("randomization:sequence")
        return self.render_to_response(self.get_context_data(**{name: form}))


class CodesView(Permission, View):
    permission_required = "randomization.set_arm_codes"

    def post(self, request, pk):
        sequence = get_object_or_404(AllocationSequence, pk=pk)
        form = CodesForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose the arm that code A stands for.")
            return redirect("randomization:sequence")
        try:
            services.arm_codes_set(sequence=sequence, by=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(
                request, error.message or "; ".join(sum(error.field_errors.values(), []))
            )
        else:
            messages.success(request, "Arm codes mapped.")
        return redirect("randomization:sequence")


class ReportView(Permission, TemplateView):
    permission_required = "randomization.view_allocation"
    template_name = "randomization/reports.html"

    def get_context_data(self, **kwargs):
        report = selectors.report(self.request.user)
        reasons = [
            (CRITERIA[code].failure_text, count)
            for code, count in report["consort"]["excluded_by_reason"].items()
        ]
        return super().get_context_data(
            report=report,
            reasons=reasons,
            may_decide=self.request.user.has_perm("randomization.replace_sequence"),
            limit_form=EnrolmentLimitForm(initial={"patients": report["limit"] + 1}),
            **kwargs,
        )


class EnrolmentLimitView(Permission, View):
    """The administrator's over-enrolment decision (from the reports page)."""

    permission_required = "randomization.replace_sequence"

    def post(self, request):
        form = EnrolmentLimitForm(request.POST)
        if form.is_valid():
            try:
                decision = services.enrolment_limit_set(by=request.user, **form.cleaned_data)
                messages.success(request, f"{decision} recorded.")
            except DomainError as error:
                messages.error(request, " ".join(error.messages))
        else:
            messages.error(request, "Give the number of patients and the reason.")
        return redirect("randomization:reports")
