"""Reads shared by the pages and the API."""

from collections import defaultdict
from datetime import timedelta

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Prefetch, Q
from django.utils import timezone

from assessments import reads as read_rules
from assessments.models import Adjudication, Read, ReaderAssignment, Scan
from assessments.services import signed_reads
from datamanagement import locks, queries
from datamanagement.models import (
    PSEUDO_VISIT,
    DataLock,
    DataQuery,
    DataUnfreeze,
    SourceVerification,
)
from datamanagement.targets import TARGETS
from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.errors import DomainError
from outcomes import snapshot
from randomization.models import Allocation


def query_list():
    return DataQuery.objects.select_related(
        "patient", "content_type", "raised_by", "answered_by", "closed_by"
    )


def queries_of(record):
    return query_list().filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    )


def open_by_age(*, today=None) -> list[dict]:
    """Open queries, oldest first, with their age in days and its band (the dashboard)."""
    today = today or timezone.localdate()
    rows = []
    for query in query_list().filter(state=queries.OPEN).order_by("raised_at"):
        days = queries.age_days(timezone.localdate(query.raised_at), today)
        rows.append({"query": query, "days": days, "band": queries.age_band(days)})
    return rows


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
    pending = query_list().filter(state__in=(queries.OPEN, queries.ANSWERED))
    if patient_ids is not None:
        pending = pending.filter(patient_id__in=ids)
    pending = list(pending.prefetch_related("record"))
    day_zero = {
        pid: timezone.localdate(at)
        for pid, at in Allocation.objects.filter(
            patient_id__in=[q.patient_id for q in pending if q.patient_id]
        ).values_list("patient_id", "randomized_at")
    }
    for query in pending:
        day = queried_day(query.record, query.field, day_zero)
        if day is None or day <= cutoff:
            where = query.patient.study_id if query.patient else "a screening"
            found.append(
                f"Data query {query.number} ({where}, {query.field_label}) is "
                f"{queries.STATES[query.state].lower()}: close or cancel it first."
            )
    found += _imaging_blockers(study, cutoff)
    return found


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
        )
        if awaiting:
            found.append(f"{study[patient_id]}: a discordance of the readers awaits adjudication.")
    return found
