"""Reads shared by the pages and the API."""

from collections import defaultdict

from django.db.models import Exists, Max, Min, OuterRef, Prefetch
from django.utils import timezone

from dosing import chain as rules_chain
from dosing import protocol, rules, services
from dosing.models import (
    Apheresis,
    DrugExposure,
    Infusion,
    InfusionReminder,
    InfusionSchedule,
    ManufacturingBatch,
)
from enrollment import course as course_state
from enrollment import status
from enrollment.models import Patient
from inkt_trial import memo


def today():
    return timezone.localdate()


def exposure_row(patient: Patient) -> dict:
    summary = services.exposure_summary(patient)
    drugs = DrugExposure.objects.filter(patient=patient)
    return {
        "study_id": patient.study_id,
        **summary.__dict__,
        "pd1_records": drugs.filter(drug="pd1").count(),
        "regorafenib_records": drugs.filter(drug="regorafenib").count(),
    }


def dose_preview(*, study_id: str, weight_kg, target_cells_per_m2: int, bsa_formula=None) -> dict:
    patient = Patient.objects.select_related("screening").filter(study_id=study_id).first()
    if patient is None:
        return {"errors": {"study_id": ["Unknown patient."]}}
    schedule = InfusionSchedule.objects.filter(patient=patient).first()
    formula = bsa_formula or (schedule.bsa_formula if schedule else rules.Formula.MOSTELLER)
    height = patient.screening.height_cm
    bsa = rules.bsa_m2(height_cm=height, weight_kg=weight_kg, formula=formula)
    dose = rules.cell_dose(target_cells_per_m2=target_cells_per_m2, bsa=bsa)
    return {
        "height_cm": height,
        "bsa_m2": bsa,
        "computed_dose_cells": dose,
        "computed_dose_shown": f"{rules.cell_count(dose)} cells",
        "target_in_range": rules.target_in_range(target_cells_per_m2),
        "body_problems": rules.body_problems(height_cm=height, weight_kg=weight_kg),
    }


@memo.per_id
def infusions_of(patient_ids) -> dict[int, list[Infusion]]:
    """Each patient's infusions in course order, in one query; once per request (the dosing
    box and the deviations read the same)."""
    found: dict[int, list[Infusion]] = {}
    for infusion in Infusion.objects.filter(patient_id__in=list(patient_ids)).order_by(
        "patient_id", "course_number"
    ):
        found.setdefault(infusion.patient_id, []).append(infusion)
    return found


@memo.per_id
def exposures_of(patient_ids) -> dict[int, list[DrugExposure]]:
    """Each patient's PD-1 antibody and regorafenib records (by drug, then start), in one
    query; once per request (the dosing box, the dose spans and the deviations read the same:
    read them, never change them)."""
    found: dict[int, list[DrugExposure]] = {}
    for record in DrugExposure.objects.filter(patient_id__in=list(patient_ids)).order_by(
        "patient_id", "drug", "start_date", "pk"
    ):
        found.setdefault(record.patient_id, []).append(record)
    return found


def patient_dosing(patient: Patient) -> dict:
    """The dosing box of a patient page (its infusion schedule as the page read it with the
    patient, else read here)."""
    schedule = getattr(patient, "infusion_schedule", None)
    in_order = infusions_of([patient.pk]).get(patient.pk, [])
    infusions = {i.course_number: i for i in in_order}
    courses = []
    stops = course_state.treatment_stops(patient.pk)
    if schedule is not None:
        now = today()
        ended = stops[status.INKT]
        first = infusions.get(1)
        first_given = first.infused_at if first and first.status == Infusion.GIVEN else None
        for course in services.planned_courses(schedule, first_given):
            infusion = infusions.get(course.number)
            if infusion is not None:
                state = infusion.get_status_display()
            elif ended is not None and course.window_start > ended[0]:
                state = "Not given (treatment ended)"
            else:
                state = rules.pending_state(course, now).capitalize()
            courses.append({"course": course, "infusion": infusion, "state": state})
    return {
        "schedule": schedule,
        "courses": courses,
        "next_course": len(infusions) + 1 if len(infusions) < protocol.MAX_COURSES else None,
        "exposure": services.exposure_of(in_order, schedule),
        "drugs": exposures_of([patient.pk]).get(patient.pk, []),
        "stops": stops,
        "drug_labels": status.DRUGS,
    }


def open_reminders():
    """Flags of the daily task whose course is still not recorded (the database leaves out
    the recorded ones: the courses' stops are read only for the patients still flagged)."""
    recorded = Infusion.objects.filter(
        patient_id=OuterRef("patient_id"), course_number=OuterRef("course_number")
    )
    reminders = list(InfusionReminder.objects.exclude(Exists(recorded)).select_related("patient"))
    stops = course_state.treatment_stops_of({r.patient_id for r in reminders})
    stopped = {pid for pid, by_drug in stops.items() if by_drug[status.INKT] is not None}
    overdue = {(r.patient_id, r.course_number) for r in reminders if r.kind == r.OVERDUE}
    return [
        r
        for r in reminders
        if r.patient_id not in stopped
        and not (r.kind == r.DUE and (r.patient_id, r.course_number) in overdue)
    ]


def first_dose(patient: Patient):
    """The first date any study treatment was given (iNKT, PD-1 or regorafenib)."""
    return first_doses([patient.pk]).get(patient.pk)


def dose_spans(patient_ids=None, *, shared_only=False) -> dict:
    """Patient id -> (first, last) date of any study treatment (shared_only: of the drugs both
    arms receive, PD-1 antibody and regorafenib, which is all a masked reader may be shown: the
    iNKT infusions are the RPI arm's alone), in two queries whatever the number of patients
    (and the drugs' stops while a prescribed period is open); of given patients, from their
    infusions and drug records as the patient page's boxes read them (once per request). The
    last dose is the latest infusion, single administration or end of a prescribed period;
    None while a prescribed period is still open and the drug has not stopped (the patient is
    on treatment). The drug's stop (its end of treatment, progression, a withdrawal for
    toxicity, a status change) closes an open period on its date."""
    if patient_ids is None:
        infusions = Infusion.objects.filter(status=Infusion.GIVEN)
        if shared_only:
            infusions = infusions.none()
        given = (
            infusions.values("patient_id")
            .annotate(earliest=Min("infused_at"), latest=Max("infused_at"))
            .values_list("patient_id", "earliest", "latest")
        )
        drugs = DrugExposure.objects.exclude(event="interruption").values_list(
            "patient_id", "drug", "event", "start_date", "end_date"
        )
    else:  # the records the patient page's boxes read (once per request)
        patient_ids = list(patient_ids)
        given = [
            (i.patient_id, i.infused_at, i.infused_at)
            for found in ({} if shared_only else infusions_of(patient_ids)).values()
            for i in found
            if i.status == Infusion.GIVEN and i.infused_at is not None
        ]
        drugs = [
            (r.patient_id, r.drug, r.event, r.start_date, r.end_date)
            for found in exposures_of(patient_ids).values()
            for r in found
            if r.event != "interruption"
        ]
    first: dict = {}
    last: dict = {}

    def started(pid, day):
        first[pid] = min(first.get(pid, day), day)

    def later(pid, day):
        last[pid] = max(last.get(pid, day), day)

    for pid, earliest, latest in given:
        started(pid, timezone.localdate(earliest))
        later(pid, timezone.localdate(latest))
    periods = []  # prescribed periods still open: (patient, drug)
    for pid, drug, event, start, end in drugs:
        started(pid, start)
        later(pid, start)
        if end is not None:
            later(pid, end)
        elif event == "period":
            periods.append((pid, drug))
    stops = course_state.treatment_stops_of(list(first))
    ongoing: set = set()
    for pid, drug in periods:  # closed on the drug's stop, if it has stopped
        stop = stops[pid].get(drug)
        if stop is not None:
            later(pid, stop[0])
        else:
            ongoing.add(pid)
    return {pid: (day, None if pid in ongoing else last[pid]) for pid, day in first.items()}


def first_doses(patient_ids=None, *, shared_only=False) -> dict:
    """Patient id -> first date of any study treatment (shared_only: of the drugs both arms
    receive), for the patients given (all: None), in two queries whatever their number."""
    infusions = Infusion.objects.filter(status=Infusion.GIVEN)
    if shared_only:
        infusions = infusions.none()
    drugs = DrugExposure.objects.exclude(event="interruption")
    if patient_ids is not None:
        infusions = infusions.filter(patient_id__in=patient_ids)
        drugs = drugs.filter(patient_id__in=patient_ids)
    found: dict = {}
    for row in infusions.values("patient_id").annotate(first=Min("infused_at")):
        found[row["patient_id"]] = timezone.localdate(row["first"])
    for row in drugs.values("patient_id").annotate(first=Min("start_date")):
        day = row["first"]
        found[row["patient_id"]] = min(found.get(row["patient_id"], day), day)
    return found


def batch_status(batch, *, now=None, infused: list[int] | None = None) -> dict:
    """A batch's release as a page or the API shows it: "infused" (course n), "released",
    "expired", "withdrawn" (a test failing since the release) or "not released", with the
    tests missing or failed as judged when recorded. Reads the batch's release tests as
    prefetched, and its infusions unless `infused` gives their course numbers (patient_chain)."""
    now = now or timezone.now()
    if infused is None:
        infused = [i.course_number for i in batch.infusions.all()]
    tests = {t.assay: t for t in batch.release_tests.all()}
    problems = []
    for assay, label in rules_chain.ASSAY_LABELS.items():
        name = label.split(" (")[0]
        if assay.value not in tests:
            problems.append(f"{name}: not tested.")
        elif not tests[assay.value].passed:  # as judged when recorded
            problems.append(f"{name}: failed.")
    if infused:
        state, text = "infused", f"Infused (course {infused[0]})"
    elif batch.released_at is not None and not problems:
        state, text = "released", "Released"
    elif now >= batch.expires_at:
        state, text = "expired", "Expired"
    elif batch.released_at is not None:
        state, text = "withdrawn", "Release no longer holds"
    else:
        state, text = "not_released", "Not released"
    return {"state": state, "text": text, "problems": problems}


def patient_chain(patient: Patient) -> list[dict]:
    """The cell product of a patient's page: each apheresis with its batches, their release
    tests and status, in a fixed number of queries. A batch's courses are among the patient's
    infusions the dosing box reads (a bag is infused only into its own patient: the bedside
    check)."""
    aphereses = list(
        Apheresis.objects.filter(patient=patient).prefetch_related(
            Prefetch(
                "batches",
                ManufacturingBatch.objects.select_related("released_by").prefetch_related(
                    "release_tests"
                ),
            )
        )
    )
    infused = defaultdict(list)
    for infusion in infusions_of([patient.pk]).get(patient.pk, []):
        if infusion.batch_id is not None:
            infused[infusion.batch_id].append(infusion.course_number)
    now = timezone.now()
    return [
        {
            "apheresis": apheresis,
            "batches": [
                {"batch": batch, "status": batch_status(batch, now=now, infused=infused[batch.pk])}
                for batch in apheresis.batches.all()
            ],
        }
        for apheresis in aphereses
    ]
