"""Imaging pages: the radiologist's worklist and reading form, the adjudicator's cases, the
data manager's agreement table, and the coordinator's scan registration."""

import csv
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from accounts.roles import RADIOLOGIST
from assessments import qlqc30, services
from assessments.api import baseline_warnings, both_series
from assessments.forms import QuestionnaireForm, visit_choices
from assessments.models import Questionnaire, Read, ReaderAssignment, Scan
from assessments.recist import NewLesionKind, NonTargetStatus
from enrollment.models import Patient
from inkt_trial import signature
from inkt_trial.errors import DomainError
from inkt_trial.views import PatientFormView, Permission, ServiceFormMixin

TARGET_ROWS, NON_TARGET_ROWS, NEW_ROWS = 5, 5, 3


def _float(value: str):
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return value  # kept as typed: the rules refuse it with a message


def data_from_form(post, kind: str, baseline: dict | None) -> dict:
    """The reading form's fields as the JSON a read is stored in (README)."""
    if kind == Scan.BASELINE:
        targets = []
        for i in range(1, TARGET_ROWS + 1):
            if not post.get(f"t{i}_organ") and not post.get(f"t{i}_diameter"):
                continue
            targets.append(
                {
                    "id": post.get(f"t{i}_id") or f"T{i}",
                    "organ": post.get(f"t{i}_organ", ""),
                    "diameter_mm": _float(post.get(f"t{i}_diameter")),
                    "nodal": bool(post.get(f"t{i}_nodal")),
                    "typical_hcc": bool(post.get(f"t{i}_typical")),
                    "viable_mm": _float(post.get(f"t{i}_viable")),
                    "porta_hepatis": bool(post.get(f"t{i}_porta")),
                }
            )
        non_targets = [
            {
                "id": post.get(f"n{i}_id") or f"N{i}",
                "organ": post.get(f"n{i}_organ"),
                "nodal": bool(post.get(f"n{i}_nodal")),
            }
            for i in range(1, NON_TARGET_ROWS + 1)
            if post.get(f"n{i}_organ")
        ]
        return {"targets": targets, "non_targets": non_targets}
    baseline = baseline or {}
    measurements = []
    for lesion in baseline.get("targets", []):
        key = lesion["id"]
        missing = bool(post.get(f"m_{key}_na"))
        measurements.append(
            {
                "lesion_id": key,
                "diameter_mm": None if missing else _float(post.get(f"m_{key}_diameter")),
                "viable_mm": None if missing else _float(post.get(f"m_{key}_viable")),
            }
        )
    non_targets = {
        lesion["id"]: post.get(f"s_{lesion['id']}", NonTargetStatus.NOT_ASSESSED.value)
        for lesion in baseline.get("non_targets", [])
    }
    new_lesions = []
    for i in range(1, NEW_ROWS + 1):
        if not post.get(f"new{i}_id"):
            continue
        new_lesions.append(
            {
                "id": post.get(f"new{i}_id"),
                "organ": post.get(f"new{i}_organ", ""),
                "kind": post.get(f"new{i}_kind", "nodule"),
                "diameter_mm": _float(post.get(f"new{i}_diameter")),
                "porta_hepatis": bool(post.get(f"new{i}_porta")),
                **{
                    flag: bool(post.get(f"new{i}_{flag}"))
                    for flag in (
                        "typical_hcc",
                        "equivocal",
                        "cytology_positive",
                        "target",
                        "increased",
                        "absent",
                    )
                },
            }
        )
    return {
        "measurements": measurements,
        "non_targets": non_targets,
        "new_lesions": new_lesions,
        "for_new_symptoms": bool(post.get("for_new_symptoms")),
    }


def form_rows(kind: str, data: dict, baseline: dict | None) -> dict:
    """What the reading form shows in each row, from a saved (or refused) read."""
    data = data or {}
    if kind == Scan.BASELINE:
        targets = list(data.get("targets", []))
        non_targets = list(data.get("non_targets", []))
        return {
            "targets": [
                (i, targets[i - 1] if i <= len(targets) else {}) for i in range(1, TARGET_ROWS + 1)
            ],
            "non_targets": [
                (i, non_targets[i - 1] if i <= len(non_targets) else {})
                for i in range(1, NON_TARGET_ROWS + 1)
            ],
        }
    baseline = baseline or {}
    measured = {m.get("lesion_id"): m for m in data.get("measurements", [])}
    statuses = data.get("non_targets", {})
    new = list(data.get("new_lesions", []))
    return {
        "measurements": [(t, measured.get(t["id"], {})) for t in baseline.get("targets", [])],
        "statuses": [(n, statuses.get(n["id"], "")) for n in baseline.get("non_targets", [])],
        "new": [(i, new[i - 1] if i <= len(new) else {}) for i in range(1, NEW_ROWS + 1)],
    }


class WorklistView(Permission, TemplateView):
    permission_required = "assessments.read_images"
    template_name = "assessments/worklist.html"

    def get_context_data(self, **kwargs):
        rows = []
        for assignment in ReaderAssignment.objects.filter(reader=self.request.user):
            reads = {r.scan_id: r for r in Read.objects.filter(assignment=assignment)}
            for scan in Scan.objects.filter(patient=assignment.patient_id).order_by("scan_date"):
                rows.append((assignment.reading_label, scan, reads.get(scan.pk)))
        return super().get_context_data(rows=rows, **kwargs)


class ReadView(Permission, TemplateView):
    """One scan, as its reader sees it: the form, the computed responses, the signature."""

    permission_required = "assessments.read_images"
    template_name = "assessments/read.html"

    def _context(self):
        assignment = ReaderAssignment.objects.filter(
            reader=self.request.user, patient__scans=self.kwargs["scan_id"]
        ).first()
        if assignment is None:
            raise Http404
        scan = get_object_or_404(Scan, pk=self.kwargs["scan_id"], patient=assignment.patient_id)
        read = Read.objects.filter(scan=scan, assignment=assignment).first()
        baseline_read = Read.objects.filter(assignment=assignment, scan__kind=Scan.BASELINE).first()
        return assignment, scan, read, baseline_read.data if baseline_read else None

    def get_context_data(self, **kwargs):
        assignment, scan, read, baseline = self._context()
        data = kwargs.pop("data", None) or (read.data if read else None)
        return super().get_context_data(
            assignment=assignment,
            scan=scan,
            read=read,
            baseline=baseline,
            rows=form_rows(scan.kind, data, baseline),
            for_new_symptoms=bool((data or {}).get("for_new_symptoms")),
            statuses=[s.value for s in NonTargetStatus],
            kinds=[k.value for k in NewLesionKind],
            responses=both_series(assignment),
            warnings=baseline_warnings(assignment),
            username_required=signature.username_required(self.request),
            **kwargs,
        )

    def post(self, request, scan_id):
        assignment, scan, read, baseline = self._context()
        data = None
        try:
            if "lock" in request.POST:
                if read is None:
                    raise DomainError("Save the read before signing it.")
                services.read_lock(
                    read=read,
                    reader=request.user,
                    password=request.POST.get("password", ""),
                    username=signature.require_components(request, request.POST.get("username")),
                )
                signature.signed_in_session(request)
                messages.success(request, "Read locked by your signature.")
                return redirect("assessments:read", scan_id=scan.pk)
            data = data_from_form(request.POST, scan.kind, baseline)
            services.read_save(
                scan=scan, reader=request.user, data=data, reason=request.POST.get("reason", "")
            )
        except DomainError as error:
            context = self.get_context_data(errors=error.messages, data=data)
            return self.render_to_response(context, status=400)
        messages.success(request, "Read saved; the responses below are computed from it.")
        return redirect("assessments:read", scan_id=scan.pk)


class AdjudicationListView(Permission, TemplateView):
    permission_required = "assessments.adjudicate"
    template_name = "assessments/adjudication_list.html"

    def get_context_data(self, **kwargs):
        cases = []
        for assignment in ReaderAssignment.objects.filter(slot=1).select_related("patient"):
            found = services.discordance(assignment.patient)
            if found and services.pending_adjudication(assignment.patient):
                cases.append((assignment.reading_label, found))
        return super().get_context_data(cases=cases, **kwargs)


class AdjudicationView(Permission, TemplateView):
    permission_required = "assessments.adjudicate"
    template_name = "assessments/adjudication.html"

    def _case(self):
        first = get_object_or_404(ReaderAssignment, reading_label=self.kwargs["label"], slot=1)
        assignments = list(
            ReaderAssignment.objects.filter(patient=first.patient_id).order_by("slot")
        )
        return first.patient, assignments

    def get_context_data(self, **kwargs):
        patient, assignments = self._case()
        found = services.discordance(patient)
        if not found:
            raise Http404
        readers = [(a.slot, both_series(a, locked_only=True)) for a in assignments]
        return super().get_context_data(found=found, readers=readers, **kwargs)

    def post(self, request, label):
        patient, _ = self._case()
        try:
            services.adjudicate(
                patient=patient,
                by=request.user,
                accepted_slot=int(request.POST.get("accepted_slot") or 0),
                reason=request.POST.get("reason", ""),
            )
        except ValueError:
            messages.error(request, "Choose reader 1 or 2 and give the reason.")
            return redirect("assessments:adjudication", label=label)
        except DomainError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("assessments:adjudication", label=label)
        messages.success(request, "Adjudicated: the accepted series feeds the endpoints.")
        return redirect("assessments:adjudication_list")


class AgreementView(Permission, TemplateView):
    permission_required = "assessments.view_agreement"
    template_name = "assessments/agreement.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=services.agreement(), **kwargs)


class ImagingSetupView(Permission, TemplateView):
    """The coordinator registers a scan or assigns the two readers of a patient."""

    permission_required = ("assessments.add_scan", "assessments.add_readerassignment")
    http_method_names = ["post"]

    def post(self, request, study_id):
        patient = get_object_or_404(Patient, study_id=study_id)
        try:
            if "assign" in request.POST:
                users = get_user_model().objects.filter(groups__name=RADIOLOGIST)
                services.readers_assign(
                    patient=patient,
                    by=request.user,
                    reader_1=get_object_or_404(users, username=request.POST.get("reader_1")),
                    reader_2=get_object_or_404(users, username=request.POST.get("reader_2")),
                )
                messages.success(request, "Readers assigned.")
            else:
                services.scan_register(
                    patient=patient,
                    by=request.user,
                    scan_date=date.fromisoformat(request.POST.get("scan_date", "")),
                    kind=request.POST.get("kind", ""),
                    modality=request.POST.get("modality", ""),
                    regions=request.POST.getlist("regions"),
                )
                messages.success(request, "Scan registered.")
        except ValueError:
            messages.error(request, "Give the scan date.")
        except DomainError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("enrollment:patient_detail", study_id=study_id)


# QLQ-C30 questionnaires ------------------------------------------------------------------------


def item_labels() -> dict[int, str]:
    """Our short labels, or the licensed wording a site provides (settings.QLQC30_WORDING_FILE:
    a CSV of item,text)."""
    path = settings.QLQC30_WORDING_FILE
    if not path:
        return qlqc30.item_labels()
    with open(path, newline="", encoding="utf-8") as handle:
        return qlqc30.item_labels(
            {
                int(row["item"]): row["text"]
                for row in csv.DictReader(handle)
                if row["item"].isascii() and row["item"].isdigit()
            }
        )


class QuestionnaireFormMixin:
    template_name = "assessments/questionnaire_form.html"

    def success_redirect(self, questionnaire):
        return redirect("assessments:questionnaire", pk=questionnaire.pk)


class QuestionnaireCreateView(QuestionnaireFormMixin, PatientFormView):
    permission_required = "assessments.add_questionnaire"
    success_message = "Questionnaire saved and scored."

    def get_form(self, form_class=None):
        visits = visit_choices(self.patient, today=timezone.localdate())
        return QuestionnaireForm(visits=visits, labels=item_labels(), **self.get_form_kwargs())

    def save(self, data):
        return services.questionnaire_record(patient=self.patient, by=self.request.user, **data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="QLQ-C30 questionnaire", **kwargs)


class QuestionnaireMixin(Permission):
    @cached_property
    def questionnaire(self):
        return get_object_or_404(
            Questionnaire.objects.select_related("patient"), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            questionnaire=self.questionnaire, patient=self.questionnaire.patient, **kwargs
        )


class QuestionnaireEditView(QuestionnaireFormMixin, ServiceFormMixin, QuestionnaireMixin, FormView):
    permission_required = "assessments.change_questionnaire"
    success_message = "Questionnaire corrected and rescored."

    def get_form(self, form_class=None):
        kwargs = self.get_form_kwargs()
        if self.request.method != "POST":
            kwargs["initial"] = QuestionnaireForm.initial_from(self.questionnaire)
        visits = visit_choices(self.questionnaire.patient, today=timezone.localdate())
        return QuestionnaireForm(visits=visits, labels=item_labels(), with_reason=True, **kwargs)

    def save(self, data):
        return services.questionnaire_correct(
            questionnaire=self.questionnaire, by=self.request.user, **data
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Correct the questionnaire", **kwargs)


class QuestionnaireDetailView(QuestionnaireMixin, TemplateView):
    permission_required = "assessments.view_questionnaire"
    template_name = "assessments/questionnaire_detail.html"

    def get_context_data(self, **kwargs):
        q = self.questionnaire
        baseline = (
            Questionnaire.objects.filter(patient_id=q.patient_id, visit=qlqc30.BASELINE)
            .exclude(pk=q.pk)
            .first()
        )
        change = qlqc30.change_from_baseline(baseline and baseline.scores, q.scores)
        scales = [(s.code, s.name, s.items) for s in qlqc30.SCALES]
        labels = item_labels()
        return super().get_context_data(
            visit_name=qlqc30.visit_name(q.visit),
            baseline=baseline,
            scores=[
                (code, name, items, q.scores.get(code), change.get(code))
                for code, name, items in scales + [("SUM", "Summary score", ())]
            ],
            answers=[(i, labels[i], q.answers.get(str(i))) for i in qlqc30.ITEMS],
            **kwargs,
        )
