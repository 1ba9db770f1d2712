"""The facts of every randomized patient up to a data cut-off, read in one consistent snapshot
(a REPEATABLE READ transaction on PostgreSQL) in a fixed number of queries, for the pure
endpoint engine (outcomes/endpoints.py)."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from assessments import reads as read_rules
from assessments import series_store
from assessments.models import Adjudication, Questionnaire, ReaderAssignment, Scan
from assessments.recist import Criterion, ReadError
from assessments.services import signed_reads
from dosing.models import DrugExposure, Infusion
from enrollment import status
from enrollment.models import StatusChange
from inkt_trial import freezing
from outcomes import endpoints as ep
from outcomes import followup
from outcomes.models import FollowUp
from randomization.models import Allocation
from safety.models import AdverseEvent

CRITERION_NAMES = {Criterion.MRECIST: ep.MRECIST, Criterion.IRECIST: ep.IRECIST}


def _series(result) -> ep.Series:
    return ep.Series(
        tuple(ep.Timepoint(t.date, t.overall) for t in result.timepoints),
        result.best_overall_response,
        result.first_response_date,
        result.progression_date,
        confirmed_on=result.icpd_scan_date,
        unconfirmed_iupd=result.unconfirmed_iupd_date,
    )


def read_facts(cutoff) -> tuple[list[ep.Patient], dict[str, str]]:
    """(facts of each randomized patient, study id -> the arm's code as a masked reader sees
    it), all as of the end of the cut-off day."""
    facts, codes, _, _ = read(cutoff)
    return facts, codes


def read(cutoff) -> tuple[list[ep.Patient], dict[str, str], freezing.LockState, dict[str, dict]]:
    """The facts and codes, with whether the data up to the cut-off are locked, and the
    subject-level facts the CDISC ADSL needs (`subject_facts`). Locked, what
    lies after the cut-off (a sign of life) is read as it stood when the data were locked, so
    that the run is the same however the trial goes on (datamanagement/locks.py)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return _read(cutoff)
    return _read(cutoff)


CHUNK = 1000  # patients whose signed reads and stored series are held at a time


class _Screening(NamedTuple):
    date_of_birth: date
    sex: str
    consent_date: date


def _read(cutoff):
    end = timezone.make_aware(datetime.combine(cutoff + timedelta(days=1), time.min))
    randomized = Allocation.objects.filter(randomized_at__lt=end)
    allocations = list(
        randomized.values_list(
            "patient_id",
            "patient__study_id",
            "arm",
            "randomized_at",
            "slot__arm",
            "patient__screening__date_of_birth",
            "patient__screening__sex",
            "patient__screening__consent_date",
        )
    )
    ids = [row[0] for row in allocations]
    in_trial = randomized.values("patient_id")  # a subquery: no list of ids sent each time
    lock = freezing.state(ids, cutoff)
    as_of = lock.as_of if lock.locked else None
    baseline = set(
        Scan.objects.filter(
            patient_id__in=in_trial, kind=Scan.BASELINE, scan_date__lte=cutoff
        ).values_list("patient_id", flat=True)
    )
    assignments = defaultdict(list)
    for pk, patient_id in (
        ReaderAssignment.objects.filter(patient_id__in=in_trial)
        .order_by("patient_id", "slot")
        .values_list("pk", "patient_id")
    ):
        assignments[patient_id].append(pk)
    adjudications = defaultdict(list)
    decided = Adjudication.objects.filter(patient_id__in=in_trial)
    if as_of is not None:
        decided = decided.filter(decided_at__lte=as_of)
    for patient_id, covers_until, slot in decided.values_list(
        "patient_id", "covers_until", "accepted_slot"
    ):
        adjudications[patient_id].append((covers_until, slot))
    deaths, therapies, alive = {}, {}, defaultdict(list)
    changes = defaultdict(list)
    for patient_id, kind, day in StatusChange.objects.filter(
        patient_id__in=in_trial, date__lte=cutoff
    ).values_list("patient_id", "kind", "date"):
        changes[patient_id].append((day, kind))
        if kind == status.DEATH:
            deaths[patient_id] = day
    for patient_id, kind, day, is_alive in FollowUp.objects.filter(
        patient_id__in=in_trial, date__lte=cutoff
    ).values_list("patient_id", "kind", "date", "alive"):
        if kind == followup.NEW_THERAPY:
            therapies[patient_id] = min(day, therapies.get(patient_id, day))
        elif kind == followup.CONTACT and is_alive:
            alive[patient_id].append(day)
    later = _alive_after(in_trial, cutoff, end, as_of=as_of)
    for patient_id, died in AdverseEvent.objects.filter(
        patient_id__in=in_trial, grade=5, death_date__lte=cutoff
    ).values_list("patient_id", "death_date"):
        deaths.setdefault(patient_id, died)  # a fatal AE without (yet) a follow-up record
    for model, field in (
        (Scan, "scan_date"),
        (Questionnaire, "completed_on"),
        (AdverseEvent, "onset"),
        (DrugExposure, "start_date"),
    ):
        for patient_id, last in (
            model.objects.filter(patient_id__in=in_trial, **{f"{field}__lte": cutoff})
            .values("patient_id")
            .annotate(last=Max(field))
            .values_list("patient_id", "last")
        ):
            alive[patient_id].append(last)
    doses = defaultdict(Exposure)
    for patient_id, first, last in (
        Infusion.objects.filter(patient_id__in=in_trial, status=Infusion.GIVEN, infused_at__lt=end)
        .values("patient_id")
        .annotate(last=Max("infused_at"), first=Min("infused_at"))
        .values_list("patient_id", "first", "last")
    ):
        alive[patient_id].append(timezone.localdate(last))
        doses[patient_id].infusions(timezone.localdate(first), timezone.localdate(last))
    for patient_id, event, start, stop in (
        DrugExposure.objects.filter(patient_id__in=in_trial, start_date__lte=cutoff)
        .exclude(event="interruption")
        .values_list("patient_id", "event", "start_date", "end_date")
    ):
        doses[patient_id].drug(event, start, stop, cutoff)
    qol = defaultdict(lambda: defaultdict(list))
    for patient_id, day, scores in (
        Questionnaire.objects.filter(patient_id__in=in_trial, completed_on__lte=cutoff)
        .order_by("completed_on")
        .values_list("patient_id", "completed_on", "scores")
    ):
        for code, value in scores.items():
            qol[patient_id][code].append((day, value))
    facts, codes, subjects = [], {}, {}
    for at in range(0, len(allocations), CHUNK):
        chunk = allocations[at : at + CHUNK]  # the reads, the largest part, a chunk at a time
        pairs = [pk for row in chunk for pk in assignments.get(row[0], ())]
        reads = signed_reads(pairs)
        stored = series_store.evaluations([row[0] for row in chunk])  # evaluated before
        for pid, study_id, arm, randomized_at, code, *screening in chunk:
            start = timezone.localdate(randomized_at)
            series = {ep.MRECIST: None, ep.IRECIST: None}
            pair = assignments.get(pid, [])
            awaiting = False
            if len(pair) == 2:
                stored.owner = pid
                accepted, awaiting = settled_series(
                    reads[pair[0]],
                    reads[pair[1]],
                    adjudications[pid],
                    start=start,
                    cutoff=cutoff,
                    evaluate=stored.evaluate_criteria,
                )
                if accepted is not None:
                    series = {CRITERION_NAMES[c]: _series(r) for c, r in accepted.items()}
            facts.append(
                ep.Patient(
                    key=study_id,
                    arm=arm,
                    start=start,
                    baseline_scan=pid in baseline,
                    series=series,
                    death=deaths.get(pid),
                    last_alive=max(alive[pid]) if alive[pid] else None,
                    new_therapy=therapies.get(pid),
                    alive_after_cutoff=pid in later and pid not in deaths,
                    awaiting_adjudication=awaiting,
                    qol={code: tuple(values) for code, values in qol.pop(pid, {}).items()},
                )
            )
            codes[study_id] = code
            subjects[study_id] = subject_facts(
                facts[-1], _Screening(*screening), doses.get(pid, Exposure()), changes[pid]
            )
        series_store.save(stored)  # what this run had to evaluate, for the next
        del reads, stored
    return facts, codes, lock, subjects


class Exposure:
    """A patient's study treatment up to the cut-off: the first and last day of any drug, and
    of the drugs both arms receive (PD-1 antibody, regorafenib), which is what a masked reader
    is shown (the iNKT infusions are the RPI arm's alone)."""

    def __init__(self):
        self.first = self.last = self.first_shared = self.last_shared = None
        self.open_at_cutoff = False

    def infusions(self, first, last):
        self.first = _earliest(self.first, first)
        self.last = _latest(self.last, last)

    def drug(self, event, start, stop, cutoff):
        self.first = _earliest(self.first, start)
        self.first_shared = _earliest(self.first_shared, start)
        for day in (start, stop if stop is not None and stop <= cutoff else None):
            self.last = _latest(self.last, day)
            self.last_shared = _latest(self.last_shared, day)
        if event == "period" and (stop is None or stop > cutoff):
            self.open_at_cutoff = True  # prescribed and still running at the cut-off


def _earliest(a, b):
    return b if a is None else a if b is None else min(a, b)


def _latest(a, b):
    return b if a is None else a if b is None else max(a, b)


def subject_facts(patient: ep.Patient, screening, doses: Exposure, changes) -> dict:
    """One patient's subject-level facts at the cut-off, JSON-ready (ISO dates), for ADSL
    (outcomes/adam.py): age at randomization in completed years, sex, first and last dose
    (the last unknown while a prescribed period is open at the cut-off), the end of study
    (the first status change that ends it, enrollment.status.OFF_STUDY), the death, the last
    day known alive, the start of a new anticancer therapy and the baseline scan."""
    born, start = screening.date_of_birth, patient.start
    age = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
    ended = sorted(change for change in changes if change[1] in status.OFF_STUDY)
    last = None if doses.open_at_cutoff else doses.last
    last_shared = None if doses.open_at_cutoff else doses.last_shared
    return {
        "age": age,
        "sex": screening.sex,
        "consent": _iso(screening.consent_date),
        "randomized": _iso(start),
        "first_dose": _iso(doses.first),
        "last_dose": _iso(last),
        "first_shared_dose": _iso(doses.first_shared),
        "last_shared_dose": _iso(last_shared),
        "end_of_study": _iso(ended[0][0]) if ended else None,
        "end_of_study_reason": ended[0][1] if ended else None,
        "death": _iso(patient.death),
        "last_alive": _iso(patient.last_alive),
        "new_therapy": _iso(patient.new_therapy),
        "baseline_scan": patient.baseline_scan,
    }


def _iso(day):
    return None if day is None else day.isoformat()


def settled_series(reads_1, reads_2, adjudications, *, start, cutoff, evaluate=None):
    """(the accepted series up to the cut-off, or the longest settled earlier extent while a
    discordance awaits adjudication; whether one awaits: the readers share the baseline and a
    follow-up up to the cut-off, yet nothing covers the whole of it)."""
    try:
        whole = read_rules.accepted(
            reads_1, reads_2, adjudications, enrolled=start, cutoff=cutoff, evaluate=evaluate
        )  # day 0 of the endpoints, randomization: SD counts from day 42 of it
        if whole is not None:
            return whole, False
        shared = {r.scan_id for r in reads_1 if r.scan_date <= cutoff} & {
            r.scan_id for r in reads_2 if r.scan_date <= cutoff
        }
        baseline = any(r.baseline and r.scan_id in shared for r in reads_1)
        awaiting = baseline and len(shared) >= 2
        if not awaiting:
            return None, False
        earlier = read_rules.accepted(
            reads_1,
            reads_2,
            adjudications,
            enrolled=start,
            cutoff=cutoff,
            earlier_extent=True,
            evaluate=evaluate,
        )
        return earlier, True
    except ReadError:
        return None, False


def _alive_after(in_trial, cutoff, end, *, as_of=None) -> set:
    """Patients whom a record dated after the cut-off shows alive then (so alive at it): a
    contact, a death (also a fatal adverse event's), a new therapy, a withdrawal of consent,
    entering another trial, the investigator's decision to end the study, a scan, a
    questionnaire, an adverse event, a drug record or an infusion given. With `as_of`, the
    records as they stood at that moment (their audit trail)."""

    def records(model):
        return model.history.as_of(as_of) if as_of is not None else model.objects

    found = set(
        records(FollowUp)
        .filter(patient_id__in=in_trial, date__gt=cutoff)
        .exclude(kind=followup.CONTACT, alive=False)
        .values_list("patient_id", flat=True)
    )
    found |= set(  # declared lost, or the study's end: no sign of life
        records(StatusChange)
        .filter(patient_id__in=in_trial, date__gt=cutoff)
        .exclude(kind__in=(status.LOST, status.STUDY_END))
        .values_list("patient_id", flat=True)
    )
    found |= set(
        records(AdverseEvent)
        .filter(patient_id__in=in_trial, death_date__gt=cutoff)
        .values_list("patient_id", flat=True)
    )
    for model, field in (
        (Scan, "scan_date"),
        (Questionnaire, "completed_on"),
        (AdverseEvent, "onset"),
        (DrugExposure, "start_date"),
    ):
        found |= set(
            records(model)
            .filter(patient_id__in=in_trial, **{f"{field}__gt": cutoff})
            .values_list("patient_id", flat=True)
        )
    found |= set(
        records(Infusion)
        .filter(patient_id__in=in_trial, status=Infusion.GIVEN, infused_at__gte=end)
        .values_list("patient_id", flat=True)
    )
    return found
