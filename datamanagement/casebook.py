"""What a patient's casebook holds, read for the PDF the investigator archives
(datamanagement/pdf.py renders it): every form as the patient page shows it, the eligibility
signatures, the data queries with their steps, the source-data verification of each record and
a summary of each record's audit trail.

The patient page's selectors are reused; the records' audit trails, queries and verifications
are read once per kind of record, so the number of queries does not grow with the records.
Never in it: the blinded readers' measurements and who the readers are (the investigator's page
does not show them either); the arm is shown as the downloading user may see it."""

from dataclasses import asdict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from assessments import qlqc30
from assessments import selectors as imaging
from datamanagement import deviation_selectors, locks, selectors
from datamanagement.models import (
    DataQuery,
    DeviationReview,
    ProtocolDeviation,
    SourceVerification,
)
from datamanagement.selectors import query_list, sdv_state
from datamanagement.targets import BY_MODEL
from dosing import selectors as dosing
from enrollment import course
from enrollment.models import Patient
from enrollment.selectors import medication_panel, patient_list
from inkt_trial.audit import histories_of
from outcomes.models import FollowUp
from randomization.protocol import RPI
from randomization.selectors import arm_shown
from safety import crs, susar, visits
from safety import selectors as safety
from safety.models import SaeReport

TRIAL_ID = "NCT05962450"
SITE = "Beijing YouAn Hospital, Capital Medical University"  # the registry record's one site


def casebook(study_id: str, *, user, now=None) -> dict:
    """Everything the casebook of patient `study_id` shows, for `user` (who generates it)."""
    patient = (
        patient_list()
        .select_related("allocation__randomized_by", "allocation__slot")
        .get(study_id=study_id)
    )
    screening = patient.screening
    allocation = getattr(patient, "allocation", None)
    state = course.state(patient)
    treatment = dosing.patient_dosing(patient)
    scans = imaging.patient_imaging(patient, user)
    events = safety.patient_events(patient)
    reports = list(
        SaeReport.objects.filter(event__patient=patient).select_related(
            "recorded_by", "event__term"
        )
    )
    for event in events:
        event.sae_reports = [r for r in reports if r.event_id == event.pk]
        event.astct_shown = crs.inputs_shown(event.astct_inputs)
        event.susar_label = susar.STATUS_LABELS.get(event.susar_status, event.susar_status)
    clinical_visits = visits.patient_visits(patient, user)[::-1]  # oldest first
    proposals = visits.patient_proposals(patient)
    recorded = {event.pk: event for event in events}
    for proposal in proposals:  # the accepted one's event as read above (its term with it)
        proposal.adverse_event = recorded.get(proposal.adverse_event_id, proposal.adverse_event)
    medications = medication_panel(screening)
    cell_product = dosing.patient_chain(patient)
    batches = [b["batch"] for a in cell_product for b in a["batches"]]
    quality = imaging.patient_quality_of_life(patient)
    follow_ups = list(FollowUp.objects.filter(patient=patient))
    violations = list(patient.eligibility_violations.all())
    infusions = [row["infusion"] for row in treatment["courses"] if row["infusion"]]
    forms = [
        ("Patient", [patient]),
        ("Screening", [screening]),
        ("Eligibility violation", violations),
        ("Randomization", [allocation] if allocation else []),
        ("Status change", state["changes"]),
        ("End of treatment", [d["end"] for d in state["drugs"] if d["end"]]),
        ("iNKT infusion schedule", [treatment["schedule"]] if treatment["schedule"] else []),
        ("iNKT course", infusions),
        ("Apheresis", [a["apheresis"] for a in cell_product]),
        ("Manufacturing batch", batches),
        ("Release test", [t for b in batches for t in b.release_tests.all()]),
        ("PD-1 antibody / regorafenib", list(treatment["drugs"])),
        ("Medical history", medications["history"]),
        ("Concomitant medication", medications["medications"]),
        ("Clinical visit", [v.visit for v in clinical_visits]),
        ("Laboratory value", [lab for v in clinical_visits for lab in v.labs]),
        ("Proposed adverse event", proposals),
        ("Scan", list(scans["scans"])),
        ("Adverse event", events),
        ("SAE report", reports),
        ("QLQ-C30 questionnaire", [q for q, _ in quality["questionnaires"]]),
        ("Follow-up", follow_ups),
        ("Protocol deviation", list(ProtocolDeviation.objects.filter(patient=patient))),
        ("Review of a derived deviation", list(DeviationReview.objects.filter(patient=patient))),
    ]
    records = [(form, record) for form, found in forms for record in found]
    for _, record in records:
        if getattr(record, "patient_id", None) == patient.pk:
            record.patient = patient  # named after the patient (str): read once, not per record
    trails = audit_trails(records)
    found_queries = patient_queries(patient, records)
    lock_rows = selectors.lock_rows([patient.pk])
    frozen_until = locks.frozen_until(lock_rows, patient.pk)
    return {
        "data_lock": (
            {
                "until": frozen_until,
                "lock": locks.freezing_lock(lock_rows, patient.pk, frozen_until),
            }
            if frozen_until
            else None
        ),
        "trial_id": TRIAL_ID,
        "site": SITE,
        "patient": patient,
        "screening": screening,
        "signatures": signatures(screening),
        "violations": violations,
        "allocation": allocation,
        "arm": arm_shown(user, allocation) if allocation else None,
        "rpi": allocation is not None and allocation.arm == RPI,
        "state": state,
        "treatment": treatment,
        "imaging": {
            **scans,
            "responses": {c: asdict(r) if r else None for c, r in scans["responses"].items()},
        },
        "events": events,
        "clinical_visits": clinical_visits,
        "proposals": proposals,
        "medications": medications,
        "cell_product": cell_product,
        "quality": {**quality, "answers": answer_rows(quality["questionnaires"])},
        "follow_ups": follow_ups,
        "deviations": deviation_selectors.log(Patient.objects.filter(pk=patient.pk)),
        "queries": found_queries,
        "records": [
            {"form": form, "record": record, **trails[key(record)]} for form, record in records
        ],
        "generated_by": user.get_full_name() or user.username,
        "generated_at": timezone.localtime(now or timezone.now()),
        "software": f"inkt-trial {settings.SOFTWARE_VERSION}",
    }


def key(record) -> tuple[str, int]:
    return type(record)._meta.label_lower, record.pk


def audit_trails(records) -> dict:
    """Per record: its audit trail (history_of's rows, oldest first), the number of versions,
    who created it and when, who changed it last and when, and its source-data verification.
    One query per kind of record, and one for the verifications."""
    by_model: dict = {}
    for _, record in records:
        by_model.setdefault(type(record), []).append(record.pk)
    rows = {}
    for model, ids in by_model.items():
        for pk, trail in histories_of(model, ids).items():
            rows[model._meta.label_lower, pk] = trail[::-1]
    verifications = latest_verifications(by_model)
    found = {}
    for _, record in records:
        trail = rows[key(record)]
        label = key(record)[0]
        found[key(record)] = {
            "trail": trail,
            "versions": len(trail),
            "created": trail[0] if trail else None,
            "last_changed": trail[-1] if len(trail) > 1 else None,
            "sdv": sdv_state(
                verifications.get(key(record)), max((r["version"] for r in trail), default=None)
            )
            if label in BY_MODEL
            else None,
        }
    return found


def latest_verifications(by_model: dict) -> dict:
    """(model label, record id) -> the record's latest source-data verification."""
    wanted = Q(pk__in=[])
    for model, ids in by_model.items():
        if model._meta.label_lower in BY_MODEL:
            wanted |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    latest = {}
    for verification in (
        SourceVerification.objects.filter(wanted)
        .select_related("content_type", "verified_by")
        .order_by("verified_at", "id")
    ):
        ct = verification.content_type
        latest[f"{ct.app_label}.{ct.model}", verification.object_id] = verification
    return latest


def patient_queries(patient: Patient, records) -> list[dict]:
    """The data queries on the patient's records (the screening's, its medications' and its
    history's raised before enrolment too),
    each with the record it is about and its steps from its audit trail."""
    found = list(
        query_list()
        .filter(Q(patient=patient) | selectors.of_screenings([patient.screening_id]))
        .order_by("raised_at", "id")
    )
    steps = histories_of(DataQuery, [q.pk for q in found])
    named = {key(record): record for _, record in records}
    return [
        {
            "query": query,
            "record": named.get(
                (f"{query.content_type.app_label}.{query.content_type.model}", query.object_id)
            ),
            "steps": steps[query.pk][::-1],
        }
        for query in found
    ]


def signatures(screening) -> list[dict]:
    """Every electronic signature of the screening's eligibility (21 CFR 11.50: the printed
    name, the date and time, the meaning), oldest first, each with the reopening that removed
    it, if any."""
    versions = list(
        screening.history.order_by("history_date", "history_id").values(
            "confirmed_at",
            "signature_name",
            "signature_meaning",
            "reopened_at",
            "reopen_reason",
            "reopened_by__username",
        )
    )
    signed = {}
    reopenings = {}
    for version in versions:
        if version["confirmed_at"] is not None:
            signed.setdefault(version["confirmed_at"], version)
        if version["reopened_at"] is not None:
            reopenings.setdefault(version["reopened_at"], version)
    found = []
    for moment, version in sorted(signed.items()):
        removed = min((r for r in reopenings if r > moment), default=None)
        found.append(
            {
                "name": version["signature_name"],
                "at": moment,
                "meaning": version["signature_meaning"],
                "current": moment == screening.confirmed_at,
                "removed_at": removed,
                "removed_by": removed and reopenings[removed]["reopened_by__username"],
                "removed_because": removed and reopenings[removed]["reopen_reason"],
            }
        )
    return found


def answer_rows(questionnaires) -> list[dict]:
    """Each QLQ-C30 item with its answer at each visit (blank where not answered)."""
    labels = qlqc30.item_labels()  # the short neutral labels: the wording is EORTC's
    return [
        {
            "item": item,
            "label": labels[item],
            "answers": [q.answers.get(str(item)) for q, _ in questionnaires],
        }
        for item in qlqc30.ITEMS
    ]
