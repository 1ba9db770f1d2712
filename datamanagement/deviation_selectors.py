"""Reads of the protocol deviation log, shared by the pages and the API: the facts of the
patients' records for the pure rules (datamanagement/deviations.py), the reviews of the derived
deviations and the deviations recorded by hand, joined into one log."""

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import IntegerField, QuerySet, Value
from django.utils import timezone

from assessments.models import Questionnaire, Scan
from assessments.reads import VISIT_INTERVAL_DAYS, VISIT_WINDOW_DAYS
from assessments.selectors import imaging_schedules, questionnaires_of, scans_of
from datamanagement import deviation_log, deviations
from datamanagement.models import DeviationReview, ProtocolDeviation
from dosing import rules as dosing_rules
from dosing.models import DrugExposure, Infusion
from dosing.selectors import exposures_of, infusions_of
from enrollment import course, status
from enrollment.models import Patient, Screening
from enrollment.selectors import violations_of
from randomization.selectors import day_zero
from safety.selectors import events_of


def _entered(records) -> dict:
    """The day each record was entered (its first version in the audit trail), per model:
    {model: ids} -> {model: {id: day}}, in one query whatever the number of models."""
    models = [model for model, ids in records.items() if ids]
    found = {model: {} for model in records}
    if not models:
        return found
    parts = [
        model.history.model.objects.filter(id__in=list(records[model]), history_type="+")
        .annotate(model=Value(index, output_field=IntegerField()))
        .order_by()
        .values_list("model", "id", "history_date")
        for index, model in enumerate(models)
    ]
    for index, pk, when in parts[0].union(*parts[1:], all=True):
        found[models[index]][pk] = timezone.localdate(when)
    return found


def _consent_entered(screening_ids) -> dict[int, date]:
    """The day the consent date now on file was entered, per screening: the earliest of the
    latest versions that all carry it."""
    versions = defaultdict(list)
    for pk, when, consent in (
        Screening.history.model.objects.filter(id__in=list(screening_ids))
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_date", "consent_date")
    ):
        versions[pk].append((when, consent))
    found = {}
    for pk, rows in versions.items():
        current, since = rows[-1][1], rows[-1][0]
        for when, consent in reversed(rows):
            if consent != current:
                break
            since = when
        found[pk] = timezone.localdate(since)
    return found


def _by_patient(rows, key="patient_id") -> dict[int, list]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def patient_facts(patients, *, today: date, now) -> list[deviations.PatientFacts]:
    """The facts the rules read, for the given patients (a query, or Patient rows read with
    their screening, allocation and infusion schedule): a fixed number of queries for the
    records, plus the imaging schedule of each randomized patient."""
    if isinstance(patients, QuerySet):
        patients = patients.select_related("screening", "allocation", "infusion_schedule")
    patients = list(patients)
    ids = [p.pk for p in patients]
    infusions = defaultdict(list, infusions_of(ids))
    scans = defaultdict(list, scans_of(ids))
    questionnaires = defaultdict(list, questionnaires_of(ids))
    drugs = defaultdict(list)
    for pid, found in exposures_of(ids).items():
        drugs[pid] = [r for r in found if r.event != "interruption"]
    violations = defaultdict(list)
    for pid, found in violations_of(ids).items():
        violations[pid] = [v for v in found if v.resolved_on is None]
    serious = defaultdict(list)
    for pid, found in events_of(ids).items():
        serious[pid] = [e for e in found if e.serious and e.awareness_at is not None]
    entered = _entered(
        {
            model: [r.pk for rows in found.values() for r in rows]
            for model, found in (
                (Infusion, infusions),
                (Scan, scans),
                (Questionnaire, questionnaires),
                (DrugExposure, drugs),
            )
        }
    )
    consent_entered = _consent_entered([p.screening_id for p in patients])
    schedules = imaging_schedules(patients, today=today)
    inkt_stops = {
        pid: stops[status.INKT]
        for pid, stops in course.treatment_stops_of(
            [p.pk for p in patients if hasattr(p, "infusion_schedule")]
        ).items()
    }
    return [
        _facts(
            patient,
            today=today,
            now=now,
            consent_entered=consent_entered.get(patient.screening_id),
            infusions=infusions[patient.pk],
            scans=scans[patient.pk],
            questionnaires=questionnaires[patient.pk],
            drugs=drugs[patient.pk],
            violations=violations[patient.pk],
            serious=serious[patient.pk],
            entered=entered,
            visit_rows=schedules.get(patient.pk, []),
            inkt_stop=inkt_stops.get(patient.pk),
        )
        for patient in patients
    ]


def _facts(
    patient,
    *,
    today,
    now,
    consent_entered,
    infusions,
    scans,
    questionnaires,
    drugs,
    violations,
    serious,
    entered,
    visit_rows,
    inkt_stop=None,
) -> deviations.PatientFacts:
    day0 = day_zero(patient)
    schedule = getattr(patient, "infusion_schedule", None)
    procedures = []
    if day0 is not None:
        procedures.append(deviations.Procedure("randomization", "Randomization", day0))
    courses = []
    for i in infusions:
        given = timezone.localdate(i.infused_at) if i.infused_at else None
        courses.append(
            deviations.Course(
                i.pk,
                i.course_number,
                i.planned_date,
                given,
                tuple(i.deviations),
                i.deviation_reason,
                entered[Infusion].get(i.pk),
            )
        )
        if given is not None:
            procedures.append(
                deviations.Procedure(
                    f"infusion-{i.pk}",
                    f"iNKT course {i.course_number}",
                    given,
                    entered[Infusion].get(i.pk),
                )
            )
    for d in drugs:
        procedures.append(
            deviations.Procedure(
                f"drug-{d.pk}",
                f"{d.get_drug_display()} ({d.get_event_display().lower()})",
                d.start_date,
                entered[DrugExposure].get(d.pk),
            )
        )
    scheduled = []
    for s in scans:
        if s.kind == Scan.BASELINE:
            continue  # routine imaging before consent may serve as the baseline
        scan = deviations.Procedure(
            f"scan-{s.pk}",
            f"Scan ({s.get_kind_display().lower()})",
            s.scan_date,
            entered[Scan].get(s.pk),
        )
        procedures.append(scan)
        if s.kind == Scan.SCHEDULED:
            scheduled.append(scan)
    by_visit = {}
    for q in questionnaires:
        procedures.append(
            deviations.Procedure(
                f"questionnaire-{q.pk}",
                f"QLQ-C30 ({q.visit})",
                q.completed_on,
                entered[Questionnaire].get(q.pk),
            )
        )
        by_visit[q.visit] = q
    visits = []
    for row in visit_rows:
        if row["start"] <= today:
            scan, questionnaire = row["scan"], by_visit.get(f"visit-{row['number']}")
            visits.append(
                deviations.Visit(
                    row["number"],
                    row["start"],
                    row["end"],
                    scan.scan_date if scan else None,
                    entered[Scan].get(scan.pk) if scan else None,
                    questionnaire.completed_on if questionnaire else None,
                    entered[Questionnaire].get(questionnaire.pk) if questionnaire else None,
                )
            )
    return deviations.PatientFacts(
        patient_id=patient.pk,
        study_id=patient.study_id,
        consent_on=patient.screening.consent_date,
        today=today,
        now=now,
        consent_entered_on=consent_entered,
        window_days=schedule.window_days if schedule else 3,
        courses=tuple(courses),
        owed_courses=_owed_courses(schedule, courses, inkt_stop),
        visits=tuple(visits),
        first_window_opens=(
            None if day0 is None else day0 + timedelta(days=VISIT_INTERVAL_DAYS - VISIT_WINDOW_DAYS)
        ),
        scheduled_scans=tuple(scheduled),
        procedures=tuple(procedures),
        violations=tuple(
            deviations.Violation(
                v.pk,
                day0 or timezone.localdate(patient.enrolled_at),
                v.found_on,
                tuple(v.failed_criteria_text),
                v.correction_reason,
            )
            for v in violations
        ),
        serious_events=tuple(
            deviations.SeriousEvent(
                e.pk,
                e.term.term,
                timezone.localtime(e.awareness_at),
                timezone.localtime(e.initial_report_at) if e.initial_report_at else None,
            )
            for e in serious
        ),
    )


def _owed_courses(schedule, courses, stop) -> tuple[tuple[int, date], ...]:
    """The courses the patient's infusion schedule still owes (RPI only: only it has one),
    from course 1's date once given, else its planned date, until the iNKT cells stopped."""
    if schedule is None:
        return ()
    first = next((c.given_on for c in courses if c.number == 1 and c.given_on), None)
    return tuple(
        (c.number, c.window_end)
        for c in dosing_rules.planned_courses(
            anchor=first or schedule.first_planned_date,
            window_days=schedule.window_days,
            stop=stop[0] if stop else None,
        )
    )


def derived(patients=None, *, today=None, now=None) -> list[deviations.Derived]:
    """Every deviation the records of these patients (all without them) show."""
    now = timezone.localtime(now)
    today = today or now.date()
    patients = Patient.objects.all() if patients is None else patients
    return [
        d
        for facts in patient_facts(patients, today=today, now=now)
        for d in deviations.derive(facts)
    ]


def follow_of(record, *, confirmed: bool) -> deviation_log.Follow:
    return deviation_log.Follow(
        record.classification,
        record.corrective_action,
        record.preventive_action,
        record.reported_to_ec_on,
        record.status,
        confirmed,
        record.pk,
    )


def reviewed(reviews) -> list[deviation_log.Reviewed]:
    return [
        deviation_log.Reviewed(
            deviations.Derived(
                r.key,
                r.patient_id,
                r.patient.study_id,
                r.rule,
                r.occurred_on,
                r.identified_on,
                r.description,
            ),
            follow_of(r, confirmed=True),
        )
        for r in reviews.select_related("patient")
    ]


def recorded_entry(record: ProtocolDeviation) -> deviation_log.Entry:
    return deviation_log.Entry(
        record.number,
        record.patient_id,
        record.patient.study_id,
        deviations.RECORDED,
        record.occurred_on,
        record.identified_on,
        record.category,
        record.description,
        record.classification,
        follow=follow_of(record, confirmed=record.classified_by_id is not None),
    )


def log(patients=None, *, today=None, now=None, **filters) -> list[deviation_log.Entry]:
    """The deviation log of these patients (all without them; a query or Patient rows as
    patient_facts takes them): derived deviations with their reviews, and those recorded by
    hand; `filters` as deviation_log.matches takes them."""
    if patients is None and filters.get("study_id"):
        patients = Patient.objects.filter(study_id=filters["study_id"])
    reviews = DeviationReview.objects.all()
    recorded = ProtocolDeviation.objects.select_related("patient")
    if patients is not None:
        reviews = reviews.filter(patient__in=patients)
        recorded = recorded.filter(patient__in=patients)
    found = deviation_log.entries(derived(patients, today=today, now=now), reviewed(reviews))
    found += [recorded_entry(r) for r in recorded]
    return deviation_log.in_order([e for e in found if deviation_log.matches(e, **filters)])


def entry(key: str, *, today=None, now=None) -> deviation_log.Entry | None:
    """One deviation of the log by its key (a derived one's, or a recorded one's number)."""
    record = ProtocolDeviation.objects.select_related("patient").filter(number=key).first()
    if record is not None:
        return recorded_entry(record)
    parsed = deviations.parse_key(key)
    if parsed is None:
        return None
    patients = Patient.objects.filter(study_id=parsed[1])
    return next((e for e in log(patients, today=today, now=now) if e.key == key), None)
