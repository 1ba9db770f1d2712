"""Reads shared by the pages and the API."""

from collections import defaultdict
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.roles import RADIOLOGIST
from assessments import checks, qlqc30, reads, services
from assessments.models import Questionnaire, ReaderAssignment, Scan
from assessments.recist import Criterion, ReadError
from enrollment import course, status
from inkt_trial import memo
from randomization.selectors import day_zero


def imaging_schedule(patient, *, today) -> list[dict]:
    """The 8-weekly visits from randomization (day 0) for 24 months with their scan (the first
    filed to the visit), or flagged overdue when the window has passed without one; they stop
    after progression (accepted mRECIST PD and iCPD), and after the death, a withdrawal of
    consent to further data, a loss to follow-up or any other end of study."""
    return imaging_schedules([patient], today=today).get(patient.pk, [])


def imaging_schedules(patients, *, today) -> dict[int, list[dict]]:
    """imaging_schedule of each randomized patient (read with its allocation), in a fixed
    number of queries whatever their number: the scans, progression on the accepted reads
    (checks.progression), the ends of study; once per request."""
    patients = list(patients)
    return memo.remember(
        ("assessments.schedules", tuple(p.pk for p in patients), today),
        lambda: _schedules(patients, today=today),
    )


@memo.per_id
def scans_of(patient_ids) -> dict[int, list[Scan]]:
    """Each patient's scans by date, in one query; once per request (the imaging box, its
    schedule and the deviations read the same: read them, never change them)."""
    found: dict[int, list[Scan]] = {}
    for scan in Scan.objects.filter(patient_id__in=list(patient_ids)).order_by("scan_date", "pk"):
        found.setdefault(scan.patient_id, []).append(scan)
    return found


def _schedules(patients, *, today) -> dict[int, list[dict]]:
    day0 = {p.pk: day for p in patients if (day := day_zero(p)) is not None}
    scans = defaultdict(list)
    for pid, found in scans_of(list(day0)).items():
        scans[pid] = [scan for scan in found if scan.kind != Scan.BASELINE]
    stops = {pid: ends[0].date for pid, ends in checks.progression(list(day0)).items() if ends}
    for pid, ended in course.off_study_of(list(day0)).items():
        stops[pid] = min(stops.get(pid, ended), ended)
    return {pid: _visits(day, scans[pid], stops.get(pid), today=today) for pid, day in day0.items()}


def _visits(day0, scans, stop, *, today) -> list[dict]:
    rows = []
    for number, planned, start, end in reads.visit_schedule(day0, until=today + timedelta(56)):
        if not status.still_owed(start, stop):
            break
        scan = next((s for s in scans if reads.files_to_visit(start, s.scan_date)), None)
        if scan is not None:
            state = "Done" if scan.scan_date <= end else "Done (late)"
        else:
            state = "Overdue" if today > end else "Planned"
        rows.append(
            {
                "number": number,
                "planned": planned,
                "start": start,
                "end": end,
                "scan": scan,
                "state": state,
            }
        )
    return rows


def radiologists():
    return get_user_model().objects.filter(groups__name=RADIOLOGIST, is_active=True)


def patient_imaging(patient, user) -> dict:
    today = timezone.localdate()
    accepted, problems = {}, []
    for criterion in Criterion:
        try:
            accepted[criterion.value] = services.accepted_series(patient, criterion)
        except ReadError as error:
            problems += error.problems
    scans = scans_of([patient.pk]).get(patient.pk, [])
    for scan in scans:  # the page's patient, its screening read with it (Scan.before_consent)
        scan.patient = patient
    return {
        "scans": scans,
        "schedule": imaging_schedule(patient, today=today),
        "readers": ReaderAssignment.objects.filter(patient=patient).select_related("reader"),
        "radiologists": radiologists(),
        "responses": accepted,
        "status": services.imaging_status(patient),
        "problems": problems,
        "today": today,
    }


@memo.per_id
def questionnaires_of(patient_ids) -> dict[int, list[Questionnaire]]:
    """Each patient's questionnaires (by completion date), in one query; once per request
    (the quality-of-life box and the deviations read the same)."""
    found: dict[int, list[Questionnaire]] = {}
    rows = Questionnaire.objects.filter(patient_id__in=list(patient_ids))
    for questionnaire in rows.order_by("completed_on"):  # the model's order, with no join
        found.setdefault(questionnaire.patient_id, []).append(questionnaire)
    return found


def patient_quality_of_life(patient) -> dict:
    """The patient's QLQ-C30 questionnaires in visit order, and per scale its score at each
    visit with the change from baseline."""
    questionnaires = sorted(
        questionnaires_of([patient.pk]).get(patient.pk, []),
        key=lambda q: qlqc30.visit_order(q.visit),
    )
    baseline = next((q for q in questionnaires if q.visit == qlqc30.BASELINE), None)
    changes = {
        q.pk: qlqc30.change_from_baseline(baseline and baseline.scores, q.scores)
        for q in questionnaires
    }
    scales = [(s.code, s.name) for s in qlqc30.SCALES] + [("SUM", "Summary score")]
    rows = [
        {
            "code": code,
            "name": name,
            "cells": [
                {"score": q.scores.get(code), "change": changes[q.pk].get(code)}
                for q in questionnaires
            ],
        }
        for code, name in scales
    ]
    return {
        "questionnaires": [(q, qlqc30.visit_name(q.visit)) for q in questionnaires],
        "rows": rows,
        "has_baseline": baseline is not None,
    }
