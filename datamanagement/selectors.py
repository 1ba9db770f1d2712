"""Reads shared by the pages and the API."""

from collections import defaultdict
from datetime import timedelta

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Max, Min, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from assessments import reads as read_rules
from assessments import series_store
from assessments.models import Adjudication, Questionnaire, Read, ReaderAssignment, Scan
from assessments.services import signed_reads
from datamanagement import locks, matrix, queries
from datamanagement.models import (
    PSEUDO_VISIT,
    DataLock,
    DataQuery,
    DataUnfreeze,
    SourceVerification,
)
from datamanagement.targets import TARGETS
from dosing.models import (
    Apheresis,
    Infusion,
    InfusionSchedule,
    ManufacturingBatch,
    ReleaseTest,
)
from enrollment import course, status
from enrollment.dates import shown
from enrollment.models import (
    ConcomitantMedication,
    MedicalHistory,
    Outcome,
    Patient,
    Screening,
    StatusChange,
    TreatmentEnd,
)
from enrollment.selectors import patient_search
from inkt_trial.errors import DomainError
from outcomes import snapshot
from outcomes.models import FollowUp
from randomization.models import Allocation
from safety.models import AdverseEvent, ClinicalVisit, LabValue, ProposedAdverseEvent


def query_list():
    return DataQuery.objects.select_related(
        "patient", "content_type", "raised_by", "answered_by", "closed_by"
    )


def queries_of(record):
    return query_list().filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    )


# The records of a screening itself (queried and verified before its patient's enrolment too,
# when they name no patient): the screening, its medications, its medical history.
SCREENING_RECORDS = (Screening, ConcomitantMedication, MedicalHistory)


def of_screenings(screening_ids) -> Q:
    """The data queries (or verifications) of the screenings' own records (subqueries of the
    query it filters)."""
    ids = [pk for pk in screening_ids if pk is not None]
    condition = Q(pk__in=[])
    for model in SCREENING_RECORDS:
        records = ids if model is Screening else model.objects.filter(screening_id__in=ids)
        condition |= Q(
            content_type_id=ContentType.objects.get_for_model(model).pk,
            object_id__in=records if model is Screening else records.values("pk"),
        )
    return condition


def open_query_counts(patients, user=None) -> dict[int, int]:
    """{patient id: open queries} of the patients, in one query (the patient list's column)."""
    ids = [p.pk for p in patients]
    counts = dict(
        DataQuery.objects.filter(patient_id__in=ids, state=queries.OPEN)
        .order_by()
        .values("patient_id")
        .annotate(n=Count("id"))
        .values_list("patient_id", "n")
    )
    return {pid: counts.get(pid, 0) for pid in ids}


def open_by_age(*, today=None, limit: int | None = None) -> list[dict]:
    """Open queries, oldest first (the `limit` oldest), with their age in days and its band
    (the dashboard)."""
    today = today or timezone.localdate()
    rows = []
    found = DataQuery.objects.filter(state=queries.OPEN).select_related("patient", "content_type")
    found = found.order_by("raised_at", "pk")
    for query in found[:limit] if limit else found:  # what the dashboard shows of each, no user
        days = queries.age_days(timezone.localdate(query.raised_at), today)
        rows.append({"query": query, "days": days, "band": queries.age_band(days)})
    return rows


def open_count() -> int:
    return DataQuery.objects.filter(state=queries.OPEN).count()


RECORD_CHOICES = [(t.model._meta.model_name, t.model._meta.verbose_name) for t in TARGETS]


class QueryFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=list(queries.STATES.items()))
    study_id = django_filters.CharFilter(field_name="patient__study_id", label="Study ID")
    record = django_filters.ChoiceFilter(
        field_name="content_type__model", choices=RECORD_CHOICES, label="Record"
    )
    older_than_days = django_filters.NumberFilter(
        method="filter_older",
        label="Raised more than this many days ago",
        min_value=0,
        max_value=100_000,
        decimal_places=0,
    )

    class Meta:
        model = DataQuery
        fields = ["state", "study_id", "record", "older_than_days"]

    def filter_older(self, queryset, name, value):
        if value is None:
            return queryset
        cutoff = timezone.now() - timezone.timedelta(days=int(value))
        return queryset.filter(raised_at__lt=cutoff)


def current_version(record) -> int | None:
    """The audit trail's id of the record's current version (what a verification names)."""
    return record.history.order_by("-history_id").values_list("history_id", flat=True).first()


def verification_of(record) -> dict:
    """The record's SDV state: verified (its current version is the one verified), changed
    since it was verified, or not verified."""
    latest = (
        SourceVerification.objects.filter(
            content_type=ContentType.objects.get_for_model(record), object_id=record.pk
        )
        .select_related("verified_by")
        .order_by("-verified_at", "-id")
        .first()
    )
    return sdv_state(latest, current_version(record))


def sdv_state(latest, version: int | None) -> dict:
    """A record's SDV state from its latest verification and its current version: verified
    (the current version is the one verified), changed since it was verified, or not
    verified."""
    if latest is None:
        state = "not verified"
    elif latest.version == version:
        state = "verified"
    else:
        state = "changed since verified"
    return {"state": state, "latest": latest, "version": version}


def sdv_progress(patient_ids=None) -> dict:
    """Per patient and per form (record type): records, and how many are verified as they now
    are. A fixed number of queries: two per form, and one for the verifications."""
    verified = {
        (ct, obj): version
        for ct, obj, version in SourceVerification.objects.order_by(
            "verified_at", "id"
        ).values_list("content_type_id", "object_id", "version")
    }  # the latest verification of each record wins
    rows: dict = {}
    forms = []
    for target in TARGETS:
        model = target.model
        forms.append(model._meta.verbose_name)
        ct = ContentType.objects.get_for_model(model).pk
        records = model.objects.filter(**{f"{target.patient_path}__isnull": False})
        if patient_ids is not None:
            records = records.filter(**{f"{target.patient_path}__in": list(patient_ids)})
        owners = dict(records.values_list("pk", target.patient_path))
        current = dict(
            model.history.model.objects.filter(id__in=list(owners))
            .values("id")
            .annotate(last=Max("history_id"))
            .values_list("id", "last")
        )
        for pk, patient_id in owners.items():
            cell = rows.setdefault(patient_id, {}).setdefault(
                model._meta.verbose_name, {"records": 0, "verified": 0}
            )
            cell["records"] += 1
            done = verified.get((ct, pk))
            cell["verified"] += done is not None and done == current.get(pk)
    return {"forms": forms, "patients": rows}


# Database lock ---------------------------------------------------------------------------------


def lock_list():
    return DataLock.objects.select_related("patient", "locked_by").prefetch_related(
        Prefetch(
            "unfreezes",
            queryset=DataUnfreeze.objects.select_related("patient", "unfrozen_by"),
        )
    )


def lock_rows(patient_ids=None) -> list[locks.Lock]:
    """The locks (rules' view) of the patients given, with every lock of all patients; all
    locks without them. Two queries at most."""
    found = DataLock.objects.all()
    if patient_ids is not None:
        found = found.filter(Q(patient__isnull=True) | Q(patient_id__in=list(patient_ids)))
    rows = list(found.values_list("pk", "number", "patient_id", "cutoff", "locked_at"))
    if not rows:
        return []
    whole, some = set(), defaultdict(set)
    for lock_id, patient_id in DataUnfreeze.objects.filter(
        lock_id__in=[r[0] for r in rows]
    ).values_list("lock_id", "patient_id"):
        if patient_id is None:
            whole.add(lock_id)
        else:
            some[lock_id].add(patient_id)
    return [
        locks.Lock(number, patient_id, cutoff, locked_at, pk in whole, frozenset(some[pk]))
        for pk, number, patient_id, cutoff, locked_at in rows
    ]


def frozen_until(patient_ids) -> dict:
    """Patient id -> the last date its records are frozen up to (patients with no lock in
    force are left out)."""
    ids = list(patient_ids)
    concerning = locks.by_patient(lock_rows(ids))
    found = {pid: locks.frozen_until(concerning(pid), pid) for pid in ids}
    return {pid: day for pid, day in found.items() if day is not None}


def refuse_frozen(record) -> None:
    """Refuse a change, an addition or a move of a record dated within a lock's frozen dates
    (the check every ClinicalRecord.save makes). The message names no patient: a blinded
    reader may be the one refused."""
    key = record.freeze_key()
    if key is None:
        return
    patient_id = key[0]
    rows = lock_rows([patient_id] if patient_id is not None else [])
    if not rows:
        return
    keys = [key]
    if record.pk is not None:
        stored = type(record)._base_manager.filter(pk=record.pk).first()
        if stored is not None and stored.freeze_key() is not None:
            keys.append(stored.freeze_key())
    for owner, day in keys:
        lock = locks.freezing_lock(rows, owner, day)
        if lock is not None:
            what = record._meta.verbose_name
            done = "changed" if record.pk is not None else "added"
            raise DomainError(
                f"The data up to {shown(lock.cutoff)} are locked (database lock {lock.number}): "
                f"no {what} dated {shown(day)} can be {done}. A data manager unfreezes them "
                "first, with a reason."
            )


def lock_state(patient_ids, cutoff):
    """Whether an endpoint run's data (these patients, up to `cutoff`) are locked, and since
    when (inkt_trial.freezing.LockState)."""
    ids = list(patient_ids)
    patients = dict(Patient.objects.filter(pk__in=ids).values_list("pk", "study_id"))
    return locks.run_state(patients, cutoff, lock_rows(ids))


def queried_day(record, field: str, day_zero: dict):
    """The date a lock freezes the queried record (or a patient's missing visit) by: the
    record's clinical date, the visit's planned date; None: undated (the patient as a whole).
    `day_zero`: patient id -> randomization date."""
    if record is None:
        return None
    if isinstance(record, Patient):
        visit = PSEUDO_VISIT.match(field)
        start = day_zero.get(record.pk)
        if visit is None or start is None:
            return None
        return start + timedelta(days=read_rules.VISIT_INTERVAL_DAYS * int(visit.group(2)))
    key = record.freeze_key()
    return key[1] if key else None


def frozen_by(record, field: str):
    """The lock in force that freezes the record (for a query on `field`), or None."""
    key = record.freeze_key()
    if key is None:
        return None
    patient_id = key[0]
    rows = lock_rows([patient_id] if patient_id is not None else [])
    if not rows:
        return None
    day_zero = {
        pid: timezone.localdate(at)
        for pid, at in Allocation.objects.filter(patient_id=patient_id).values_list(
            "patient_id", "randomized_at"
        )
    }
    day = queried_day(record, field, day_zero)
    if day is None:
        return None
    return locks.freezing_lock(rows, patient_id, day)


def lock_blockers(*, cutoff, patient_ids=None) -> list[str]:
    """What must be settled before the records of these patients (all without them) dated up
    to `cutoff` are locked: data queries still open or answered on them, reads of their scans
    not signed by both readers, a discordance awaiting adjudication. Each as a message."""
    patients = Patient.objects.all()
    if patient_ids is not None:
        patients = patients.filter(pk__in=list(patient_ids))
    study = dict(patients.values_list("pk", "study_id"))
    ids = list(study)
    found = []
    screenings = Screening.objects.filter(screening_date__lte=cutoff)
    if patient_ids is not None:
        screenings = screenings.filter(patient__in=ids)
    for screening in screenings.filter(
        Q(reopened_at__isnull=False)
        | Q(outcome=Outcome.ELIGIBLE, confirmed_at__isnull=True, patient__isnull=True)
    ).order_by("screening_number"):
        what = (
            "is reopened for correction"
            if screening.is_reopened
            else "awaits the investigator's signature"
        )
        found.append(
            f"Screening {screening.screening_number} ({shown(screening.screening_date)}) "
            f"{what}: sign it (or record it otherwise) first."
        )
    pending = query_list().filter(state__in=(queries.OPEN, queries.ANSWERED))
    if patient_ids is not None:  # the patients' records, their screenings' from before enrolment
        screened = list(screenings.values_list("pk", flat=True))
        screened += list(Patient.objects.filter(pk__in=ids).values_list("screening_id", flat=True))
        pending = pending.filter(Q(patient_id__in=ids) | of_screenings(set(screened)))
    pending = list(pending.prefetch_related("record"))
    day_zero = {
        pid: timezone.localdate(at)
        for pid, at in Allocation.objects.filter(
            patient_id__in=[q.patient_id for q in pending if q.patient_id]
        ).values_list("patient_id", "randomized_at")
    }
    for query in pending:
        record = query.record
        if record is not None and not isinstance(record, Patient) and not record.freeze_key():
            continue  # a record no lock freezes (a plan, the deviation log)
        day = queried_day(record, query.field, day_zero)
        if day is None or day <= cutoff:
            where = query.patient.study_id if query.patient else "a screening"
            found.append(
                f"Data query {query.number} ({where}, {query.field_label}) is "
                f"{queries.STATES[query.state].lower()}: close or cancel it first."
            )
    found += _proposal_blockers(ids, cutoff)
    found += _imaging_blockers(study, cutoff)
    return found


def _proposal_blockers(ids, cutoff) -> list[str]:
    """Adverse events a laboratory value up to the cut-off proposes, neither accepted nor
    dismissed yet: a lock over them would freeze the data with the events undecided."""
    return [
        f"{p.patient.study_id}: the proposed adverse event {p.term.term} grade {p.grade} "
        f"({shown(p.lab.visit.visit_date)}) awaits the coordinator's decision: accept or "
        "dismiss it first."
        for p in ProposedAdverseEvent.objects.filter(
            patient_id__in=ids,
            state=ProposedAdverseEvent.PROPOSED,
            lab__visit__visit_date__lte=cutoff,
        )
        .select_related("patient", "term", "lab__visit")
        .order_by("patient__study_id", "lab__visit__visit_date", "pk")
    ]


def _imaging_blockers(study: dict, cutoff) -> list[str]:
    """Scans up to the cut-off without a signed read by each of the patient's two readers, and
    discordances awaiting adjudication over them (a fixed number of queries)."""
    ids = list(study)
    scans = defaultdict(list)
    for pk, patient_id, day in Scan.objects.filter(
        patient_id__in=ids, scan_date__lte=cutoff
    ).values_list("pk", "patient_id", "scan_date"):
        scans[patient_id].append((pk, day))
    if not scans:
        return []
    readers = defaultdict(list)
    for pk, patient_id, label in (
        ReaderAssignment.objects.filter(patient_id__in=list(scans))
        .order_by("patient_id", "slot")
        .values_list("pk", "patient_id", "reading_label")
    ):
        readers[patient_id].append((pk, label))
    signed = set(
        Read.objects.filter(
            assignment__patient_id__in=list(scans),
            scan__scan_date__lte=cutoff,
            locked_at__isnull=False,
        ).values_list("assignment_id", "scan_id")
    )
    reads = signed_reads([pk for pairs in readers.values() for pk, _ in pairs])
    adjudications = defaultdict(list)
    for patient_id, covers_until, slot in Adjudication.objects.filter(
        patient_id__in=list(scans)
    ).values_list("patient_id", "covers_until", "accepted_slot"):
        adjudications[patient_id].append((covers_until, slot))
    starts = {
        pid: timezone.localdate(at)
        for pid, at in Allocation.objects.filter(patient_id__in=list(scans)).values_list(
            "patient_id", "randomized_at"
        )
    }
    stored = series_store.evaluations(scans)
    found = []
    for patient_id in sorted(scans, key=lambda pid: study[pid]):
        pair = readers.get(patient_id, [])
        if len(pair) < 2:
            found.append(
                f"{study[patient_id]}: scans up to {shown(cutoff)} but no two readers assigned."
            )
            continue
        unsigned = [
            f"{label}: scan of {shown(day)}"
            for pk, label in pair
            for scan_id, day in sorted(scans[patient_id], key=lambda s: s[1])
            if (pk, scan_id) not in signed
        ]
        if unsigned:
            found.append(
                f"{study[patient_id]}: {len(unsigned)} read(s) not signed "
                f"({'; '.join(unsigned[:3])}{'; …' if len(unsigned) > 3 else ''})."
            )
            continue
        start = starts.get(patient_id)
        if start is None:
            continue
        _, awaiting = snapshot.settled_series(
            reads[pair[0][0]],
            reads[pair[1][0]],
            adjudications[patient_id],
            start=start,
            cutoff=cutoff,
            evaluate=stored.evaluate_criteria,
        )
        if awaiting:
            found.append(f"{study[patient_id]}: a discordance of the readers awaits adjudication.")
    return found


# The casebook matrix ----------------------------------------------------------------------------

CASEBOOK_PAGE = 50  # patients per page
CASEBOOK_CHUNK = 200  # patients read at a time when a state filter has to look further


def _records(model, patient_ids, *fields, patient="patient_id"):
    """(patient id, record id, current version, *fields) of the patients' records, in one query;
    the current version is the audit trail's id of the latest (what a verification names)."""
    latest = (
        model.history.model.objects.filter(id=OuterRef("pk"))
        .order_by("-history_id")
        .values("history_id")[:1]
    )
    return (
        model.objects.filter(**{f"{patient}__in": patient_ids})
        .annotate(latest_version=Subquery(latest))
        .values_list(patient, "pk", "latest_version", *fields)
    )


def _flags(patients) -> tuple[set, dict, dict]:
    """The records with an open or answered query ({(content type id, record id)}), each
    patient's queried visits ("scan-visit-3"), and the latest verified version of each
    verified record; a screening's from before its patient's enrolment included."""
    ids = [p.pk for p in patients]
    patient_ct = ContentType.objects.get_for_model(Patient).pk
    screenings = of_screenings([p.screening_id for p in patients])
    flagged, visits = set(), defaultdict(set)
    for ct, pk, field in DataQuery.objects.filter(
        Q(patient_id__in=ids) | screenings, state__in=queries.UNRESOLVED
    ).values_list("content_type_id", "object_id", "field"):
        flagged.add((ct, pk))
        if ct == patient_ct and PSEUDO_VISIT.match(field):  # a query on the patient's visit
            visits[pk].add(field)
    verified = {
        (ct, pk): version
        for ct, pk, version in SourceVerification.objects.filter(Q(patient_id__in=ids) | screenings)
        .order_by("verified_at", "id")
        .values_list("content_type_id", "object_id", "version")
    }  # the latest verification of each record wins
    return flagged, visits, verified


# The logs of the casebook matrix whose records are not the patient's own rows, or are new:
# (model, the path to its patient, the date a lock freezes it by, the log).
MATRIX_LOGS = (
    (Apheresis, "patient_id", "date", "cell_product"),
    (ManufacturingBatch, "patient_id", "manufactured_on", "cell_product"),
    (ReleaseTest, "batch__patient_id", "tested_on", "cell_product"),
    (ClinicalVisit, "patient_id", "visit_date", "clinical_visits"),
    (LabValue, "visit__patient_id", "visit__visit_date", "clinical_visits"),
    (ConcomitantMedication, "screening__patient", "start_date", "medications"),
    (MedicalHistory, "screening__patient", "screening__screening_date", "medical_history"),
)


def matrix_records(patients) -> dict[int, matrix.PatientRecords]:
    """What the matrix needs of each patient (Patient rows with their screening), in a fixed
    number of queries whatever their number."""
    patients = list(patients)
    ids = [p.pk for p in patients]
    courses = course.courses_of(patients)
    frozen = frozen_until(ids)
    flagged, visit_queries, verified = _flags(patients)

    def entry(model, pk, version, day):
        key = (ContentType.objects.get_for_model(model).pk, pk)
        done = version is not None and verified.get(key) == version
        return matrix.Entry(model._meta.label_lower, pk, day, key in flagged, done)

    found = {}
    for patient in patients:
        plan = courses[patient.pk]
        ends = plan.ends + plan.derived
        stop = status.treatment_stop(plan.changes, ends, status.INKT)
        progressions = [e.date for e in plan.derived if e.reason == status.PROGRESSION]
        found[patient.pk] = matrix.PatientRecords(
            enrolled=timezone.localdate(patient.enrolled_at),
            randomized=plan.randomized,
            inkt_arm=status.INKT in plan.drugs if plan.randomized else None,
            path=plan.path,
            inkt_stop=stop.day if stop else None,
            progression=min(progressions, default=None),
            visit_queries=visit_queries[patient.pk],
            frozen_until=frozen.get(patient.pk),
        )
    for pid, pk, version, day in _records(Screening, ids, "screening_date", patient="patient"):
        found[pid].screening = entry(Screening, pk, version, day)
    for pid, pk, version, moment in _records(Allocation, ids, "randomized_at"):
        found[pid].allocation = entry(Allocation, pk, version, timezone.localdate(moment))
    for pid, planned, window in InfusionSchedule.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "first_planned_date", "window_days"
    ):
        found[pid].schedule_planned, found[pid].window_days = planned, window
    for pid, pk, version, number, given, moment, planned in _records(
        Infusion, ids, "course_number", "status", "infused_at", "planned_date"
    ):
        given = given == Infusion.GIVEN and moment is not None
        day = timezone.localdate(moment) if given else planned
        found[pid].courses[number] = entry(Infusion, pk, version, day)
        if given and number == 1:
            found[pid].first_course_given = day
    for pid, pk, version, day, kind in _records(Scan, ids, "scan_date", "kind"):
        if kind == Scan.BASELINE:
            found[pid].baseline_scan = entry(Scan, pk, version, day)
        else:
            found[pid].scans.append(entry(Scan, pk, version, day))
    for pid, pk, version, day, visit in _records(Questionnaire, ids, "completed_on", "visit"):
        found[pid].questionnaires[visit] = entry(Questionnaire, pk, version, day)
    logs = (
        (AdverseEvent, "onset", "adverse_events"),
        (FollowUp, "date", "follow_ups"),
        (StatusChange, "date", "course_records"),
        (TreatmentEnd, "date", "course_records"),
    )
    for model, dated, log in logs:
        for pid, pk, version, day in _records(model, ids, dated).order_by(dated, "pk"):
            getattr(found[pid], log).append(entry(model, pk, version, day))
    for model, patient, dated, log in MATRIX_LOGS:
        for pid, pk, version, day in _records(model, ids, dated, patient=patient).order_by(
            dated, "pk"
        ):
            getattr(found[pid], log).append(entry(model, pk, version, day))
    return found


def _may_show(states) -> Q | None:
    """A condition in the database every patient with a cell in one of `states` meets, when
    there is one (a query, a verification, a lock): the patients the matrix then reads."""

    def about(model, **filters):
        rows = model.objects.filter(**filters)
        condition = Q(pk__in=rows.values("patient_id"))
        for record in SCREENING_RECORDS:  # a screening's own records, before enrolment too
            ids = rows.filter(content_type_id=ContentType.objects.get_for_model(record).pk).values(
                "object_id"
            )
            if record is Screening:
                condition |= Q(screening_id__in=ids)
            else:
                found = record.objects.filter(pk__in=ids).values("screening_id")
                condition |= Q(screening_id__in=found)
        return condition

    narrowing = {
        matrix.QUERIED: lambda: about(DataQuery, state__in=queries.UNRESOLVED),
        matrix.VERIFIED: lambda: about(SourceVerification),
        matrix.LOCKED: lambda: Q(
            pk__in=list(frozen_until(list(Patient.objects.values_list("pk", flat=True))))
        ),
    }
    if not states or any(s not in narrowing for s in states):
        return None
    condition = Q(pk__in=[])
    for state in states:
        condition |= narrowing[state]()
    return condition


def matrix_page(*, search: str = "", states=(), groups=(), page: int = 1, today=None) -> dict:
    """One page of the matrix: the columns (of `groups`, all when empty) and the rows of the
    patients (by study ID; `search` in the study ID or screening number) with a cell in one of
    `states` (any, when empty), in a fixed number of queries per page. With states, the rows
    are derived chunk by chunk until the page is full: `count` is then None unless every
    patient was read."""
    today = today or timezone.localdate()
    first = Allocation.objects.aggregate(first=Min("randomized_at"))["first"]
    visits = matrix.visits_opened(first and timezone.localdate(first), today)
    shown = [c for c in matrix.columns(visits) if not groups or c.group in groups]
    keys = {c.key for c in shown}
    patients = Patient.objects.select_related("screening").order_by("study_id")
    if search:
        patients = patient_search(patients, search)
    start = (page - 1) * CASEBOOK_PAGE

    def rows_of(chosen):
        records = matrix_records(chosen)
        for patient in chosen:
            cells = matrix.row(records[patient.pk], today=today, visits=visits)
            yield patient, [c for c in cells if c.column in keys]

    if not states:
        count = patients.count()
        rows = list(rows_of(list(patients[start : start + CASEBOOK_PAGE])))
        return {
            "columns": shown,
            "rows": rows,
            "count": count,
            "page": page,
            "has_next": start + CASEBOOK_PAGE < count,
        }
    condition = _may_show(states)
    if condition is not None:
        patients = patients.filter(condition)
    ids = list(patients.values_list("pk", flat=True))
    rows, matched, read = [], 0, 0
    while read < len(ids) and matched <= start + CASEBOOK_PAGE:
        chunk = list(patients.filter(pk__in=ids[read : read + CASEBOOK_CHUNK]))
        read += CASEBOOK_CHUNK
        for patient, cells in rows_of(chunk):
            if matrix.any_state(cells, states):
                if start <= matched < start + CASEBOOK_PAGE:
                    rows.append((patient, cells))
                matched += 1
    return {
        "columns": shown,
        "rows": rows,
        "count": matched if read >= len(ids) else None,
        "page": page,
        "has_next": matched > start + CASEBOOK_PAGE,
    }
