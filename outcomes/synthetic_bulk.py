"""The synthetic trial's bulk path (issue 16): the same records as the services make, built in
memory by the services' own rules and written in batches (one COPY per table), with the audit
trail's rows (django-simple-history's historical rows: who, when, the reason) the services
would have written, version by version.

outcomes/synthetic.py's Generator draws the trial and calls a writer: `Services` (one record at
a time through the product's services) or `Bulk` (this module), with the same calls. What each
record derives comes from the rule modules the services use (eligibility, the slot's arm, BSA
and cell dose, the course schedule and deviations, the bag's bedside check, release tests,
QLQ-C30 scores, the reads as the RECIST rules understand them and the readers' series, the
CTCAE/ASTCT/SUSAR derivations of an adverse event). The generator's dates are consistent by
construction; the checks that need the patient's whole course from the database (a record
after a death, a follow-up's order) are not repeated record by record:
outcomes/tests/test_synthetic_bulk.py makes the same trial both ways and compares every row
and every historical row, and re-checks a sample through the services.

What a bulk trial lacks: no e-mail is queued for the screenings (the service's notice goes
out on commit, when every screening is already signed, and then sends nothing); the edit
checks run once per patient, a batch of patients at a time, when the transaction commits
(inkt_trial.signals.records_written_in_bulk, which the data management app acts on; the
services queue them on every save, also to run at commit). Beyond one
allocation sequence (randomization.protocol.MAX_SEQUENCE_LENGTH slots) the administrator puts
the next version in force through the services, as they would for a real trial.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import time_machine
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.models.base import ModelState
from django.db.models.functions import Length
from django.utils import timezone

from assessments import qlqc30
from assessments import reads as read_rules
from assessments import services as imaging
from assessments.models import (
    Adjudication,
    Questionnaire,
    Read,
    ReaderAssignment,
    Scan,
    new_reading_label,
)
from assessments.recist import Criterion, ReadError
from dosing import chain
from dosing import services as dosing
from dosing.fixtures import PASSING
from dosing.models import (
    Apheresis,
    DrugExposure,
    Infusion,
    InfusionSchedule,
    ManufacturingBatch,
    ReleaseTest,
)
from enrollment import services as enrollment
from enrollment.models import Outcome, Patient, Screening, StatusChange, TreatmentEnd
from inkt_trial import bulk
from inkt_trial.errors import DomainError
from inkt_trial.signals import records_written_in_bulk
from outcomes.models import FollowUp
from randomization import sequence as seq
from randomization import services as randomization
from randomization.models import Allocation, AllocationSequence, Slot
from randomization.protocol import MAX_SEQUENCE_LENGTH
from safety import rules as safety_rules
from safety import services as safety
from safety.models import AdverseEvent

PATIENTS_PER_BATCH = 500
MAX_PATIENTS = 100_000  # ten allocation sequences of randomization.protocol's longest
# Parents before children: each batch is written in this order.
ORDER = (
    Screening,
    Patient,
    ReaderAssignment,
    Allocation,
    Scan,
    Questionnaire,
    DrugExposure,
    InfusionSchedule,
    Apheresis,
    ManufacturingBatch,
    ReleaseTest,
    Infusion,
    AdverseEvent,
    TreatmentEnd,
    Read,
    Adjudication,
    FollowUp,
    StatusChange,
)


@dataclass
class Version:
    """One historical row: the record's values at `when` (snapshot; None: as it is written,
    for a record that does not change afterwards), who and why."""

    record: models.Model
    snapshot: dict | None
    when: datetime
    by: object
    kind: str  # "+" created, "~" changed
    reason: str | None


@dataclass
class Course:
    """What the services would read back from the database about one patient."""

    patient: Patient
    screening: Screening
    arm: str = ""
    randomized_at: datetime | None = None
    readers: dict = field(default_factory=dict)  # reader's user id -> assignment
    series: dict = field(default_factory=lambda: defaultdict(list))  # slot -> reads
    scan_days: list[date] = field(default_factory=list)
    exposures: dict = field(default_factory=dict)  # drug -> the latest record
    schedule: InfusionSchedule | None = None
    infusions: list[Infusion] = field(default_factory=list)
    apheresis: Apheresis | None = None
    batches: dict = field(default_factory=dict)  # batch number -> (batch, release tests)


def _new(model, **values):
    """model(**values), as Django's Model.__init__ makes it (every field's default, a related
    record cached), without its per-field machinery: a large share of the time for the
    hundreds of thousands of records of a large trial."""
    make = _MAKERS.get(model)
    if make is None:
        make = _MAKERS[model] = _maker(model)
    return make(values)


def _maker(model):
    fields = model._meta.concrete_fields
    if len(fields) != len(model._meta.fields) or any(
        f.db_default is not models.NOT_PROVIDED or f.generated for f in fields
    ):
        raise TypeError(f"{model.__name__}: made through Model.__init__ only")
    constant = {}
    fresh = []  # a callable default (list, dict...): a new value for each record
    for f in fields:
        if f.has_default() and callable(f.default):
            fresh.append((f.attname, f.default))
        else:
            constant[f.attname] = f.get_default()
    known = {f.name for f in fields} | {f.attname for f in fields} | model._meta._property_names
    # a related record linked as its descriptor links it on one database without routers:
    # its id, the record cached (both ways for a one-to-one), the database noted on both
    links = {
        f.name: (
            f.attname,
            f.target_field.attname,
            f.related_model,
            None if f.remote_field.multiple else f.remote_field,
        )
        for f in fields
        if f.is_relation and not settings.DATABASE_ROUTERS
    }

    def make(values: dict):
        unknown = values.keys() - known
        if unknown:
            raise TypeError(f"{model.__name__}() got unexpected keyword arguments: {unknown}")
        record = model.__new__(model)
        record._state = state = ModelState()
        stored = record.__dict__
        stored.update(constant)
        for attname, default in fresh:
            stored[attname] = default()
        for name, value in values.items():
            link = links.get(name)
            if link is None or value is None:
                setattr(record, name, value)
                continue
            attname, target, related, reverse = link
            if not isinstance(value, related):
                raise ValueError(f"{model.__name__}.{name} must be a {related.__name__}.")
            state.db = state.db or value._state.db or DEFAULT_DB_ALIAS
            value._state.db = value._state.db or state.db
            stored[attname] = getattr(value, target)
            state.fields_cache[name] = value
            if reverse is not None:
                reverse.set_cached_value(value, record)
        return record

    return make


_MAKERS: dict = {}


def _next_number(model, number_field: str, prefix: str) -> int:
    """The next free number, as inkt_trial.numbering.create_numbered finds it."""
    last = (
        model._base_manager.filter(**{f"{number_field}__startswith": prefix})
        .order_by(Length(number_field).desc(), f"-{number_field}")
        .values_list(number_field, flat=True)
        .first()
    )
    return int(last[len(prefix) :]) + 1 if last else 1


def _refused(what: str, errors) -> DomainError:
    return DomainError(f"The synthetic {what} was refused.", field_errors=errors)


class Bulk:
    """The generator's writes, kept in memory and written every PATIENTS_PER_BATCH patients."""

    def __init__(self, *, users: dict):
        self.u = users
        self.rows: dict = defaultdict(list)
        self.versions: dict = defaultdict(list)
        self.courses: dict[int, Course] = {}  # id(patient) -> its course
        self.pending = 0  # patients enrolled since the last write
        self.patient_ids: list[int] = []
        self.current = None  # the patient being made
        self.adjudicated: list = []  # (patient, when): their series evaluated once written
        self._slots(AllocationSequence.objects.get(is_active=True))
        self.randomized = Allocation.objects.count()
        self.limit = randomization.enrolment_limit()
        self.screening_number = _next_number(Screening, "screening_number", "S-")
        self.study_number = _next_number(Patient, "study_id", "INKT-")
        self.labels = set(ReaderAssignment.objects.values_list("reading_label", flat=True))

    def _slots(self, sequence) -> None:
        self.sequence = sequence
        self.free: dict[str, deque] = defaultdict(deque)
        for slot in Slot.objects.filter(sequence=sequence, allocation__isnull=True).order_by(
            "position"
        ):
            self.free[slot.stratum].append(slot)

    def _next_sequence(self) -> None:
        """The sequence is used up: the administrator puts a new version in force (with a
        reason; its seed derived from the last one's) and maps its codes, through the
        services, once what is made so far is written."""
        self.write()
        by, last = self.u["datamanager"], self.sequence
        sequence = randomization.sequence_generate(
            by=by,
            length=MAX_SEQUENCE_LENGTH,
            block_sizes=last.block_sizes,
            # (a seed the services take: below 2^63)
            seed=seq.stratum_seed(last.seed, f"version {last.version + 1}") % 2**63,
            stratify_by=last.stratify_by,
            reason="Synthetic trial larger than one sequence: the next slots",
        )
        randomization.arm_codes_set(
            sequence=sequence, by=by, code_a_arm=last.code_a_arm, reason="Arm codes as before"
        )
        self._slots(AllocationSequence.objects.get(pk=sequence.pk))  # with its codes mapped

    # the audit trail ----------------------------------------------------------------------
    def _add(self, record, by, *, changes_later: bool = False) -> None:
        self.rows[type(record)].append(record)
        self._version(record, by, "+", None, snapshot=changes_later)

    def _version(self, record, by, kind: str, reason: str | None, *, snapshot=True) -> None:
        snapshot = (
            {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
            if snapshot
            else None
        )
        self.versions[type(record)].append(
            Version(record, snapshot, timezone.now(), by, kind, reason)
        )

    def _course(self, patient) -> Course:
        return self.courses[id(patient)]

    # enrolment ----------------------------------------------------------------------------
    def screening_create(self, *, values, by) -> Screening:
        if self.pending >= PATIENTS_PER_BATCH:
            self.write()  # between two patients: every record of the last one is made
        values = enrollment._values(values)
        assessment = enrollment._validated_assessment(values)
        screening = _new(Screening, created_by=by, rescreen_of=None)
        enrollment._apply(screening, values, assessment)
        screening.screening_number = f"S-{self.screening_number:04d}"
        screening.created_at = timezone.now()
        self.screening_number += 1
        self._add(screening, by, changes_later=True)
        return screening

    def enrol(self, screening, by, *, meaning: str) -> Patient:
        if screening.outcome != Outcome.ELIGIBLE:
            raise DomainError(f"{screening} is a screen failure.")
        name = by.get_full_name() or by.username
        enrollment._sign(
            screening, by, meaning.format(name=name, number=screening.screening_number)
        )
        self._version(screening, by, "~", enrollment.ENROL_REASON)
        patient = _new(
            Patient,
            study_id=f"INKT-{self.study_number:03d}",
            screening=screening,
            enrolled_at=screening.confirmed_at,
            enrolled_by=by,
        )
        self.study_number += 1
        self._add(patient, by)
        self.courses[id(patient)] = self.current = Course(patient, screening)
        self.pending += 1
        return patient

    def readers_assign(self, *, patient, by, reader_1, reader_2) -> None:
        course = self._course(patient)
        for slot, user in ((1, reader_1), (2, reader_2)):
            label = new_reading_label()
            while label in self.labels:
                label = new_reading_label()
            self.labels.add(label)
            assignment = _new(
                ReaderAssignment, patient=patient, slot=slot, reader=user, reading_label=label
            )
            course.readers[user.pk] = assignment
            self._add(assignment, by)

    def randomize(self, *, patient, by) -> str:
        course = self._course(patient)
        stratum = seq.stratum_of(
            self.sequence.stratify_by, {"child_pugh_class": course.screening.child_pugh_class}
        )
        if not self.free[stratum]:
            self._next_sequence()
        if self.randomized >= self.limit:
            raise DomainError(f"{self.limit} patients are randomized, as many as allowed.")
        slot = self.free[stratum].popleft()
        allocation = _new(
            Allocation,
            patient=patient,
            slot=slot,
            arm=self.sequence.arm_of(slot.arm),
            stratum=stratum,
            randomized_at=timezone.now(),
            randomized_by=by,
        )
        self.randomized += 1
        course.arm, course.randomized_at = allocation.arm, allocation.randomized_at
        self._add(allocation, by)
        return allocation.arm

    # imaging and questionnaires -------------------------------------------------------------
    def scan_register(self, *, patient, by, scan_date, kind, modality, regions) -> Scan:
        scan = _new(
            Scan,
            patient=patient,
            scan_date=scan_date,
            kind=kind,
            modality=modality,
            regions=list(regions),
            registered_by=by,
        )
        self._course(patient).scan_days.append(scan_date)
        self._add(scan, by)
        return scan

    def scanned_after(self, patient, day: date) -> bool:
        return any(scanned > day for scanned in self._course(patient).scan_days)

    def questionnaire_record(self, *, patient, by, visit, completed_on, answers) -> None:
        try:
            qlqc30.visit_order(visit)
            clean = qlqc30.check_answers(answers)
        except (ValueError, qlqc30.AnswerError) as error:
            raise _refused("questionnaire", {"answers": [str(error)]}) from None
        if qlqc30.all_blank(clean):
            raise _refused("questionnaire", {"answers": [qlqc30.ALL_BLANK]})
        questionnaire = _new(
            Questionnaire,
            patient=patient,
            visit=visit,
            completed_on=completed_on,
            answers={str(item): value for item, value in clean.items()},
            scores=qlqc30.score(clean),
            recorded_by=by,
        )
        self._add(questionnaire, by)

    def read_signed(self, *, scan, reader, data, note) -> None:
        """read_save then the signature: the read as the rules understood it (the reader's
        whole series is checked once, when written: _check_series)."""
        course = self._course(scan.patient)
        assignment = course.readers[reader.pk]
        series = course.series[assignment.slot]
        try:
            cleaned = read_rules.cleaned(scan.scan_date, data, baseline=scan.kind == Scan.BASELINE)
        except ReadError as error:
            raise _refused("read", {"data": error.problems}) from None
        series.append((scan.scan_date, cleaned))  # the whole series is checked when written
        read = _new(Read, scan=scan, assignment=assignment, data=cleaned)
        self._add(read, reader, changes_later=True)
        imaging.signature_apply(read, reader, note=note)
        self._version(read, reader, "~", imaging.SIGNED_READ_REASON)

    def _discordance(self, patient) -> tuple[list[str], date]:
        """Where the two readers' signed series differ, over every scan both signed
        (assessments.services.discordance), and the last of those scans."""
        course = self._course(patient)
        one, two = course.series[1], course.series[2]
        enrolled = timezone.localdate(course.randomized_at)
        found = []
        for criterion in Criterion:
            found += read_rules.disagreements(
                read_rules.evaluate_series(one, enrolled=enrolled, criterion=criterion),
                read_rules.evaluate_series(two, enrolled=enrolled, criterion=criterion),
            )
        return found, max(day for day, _ in one)

    def pending_adjudication(self, patient) -> bool:
        course = self._course(patient)
        if min(len(course.series[1]), len(course.series[2])) < 2:
            return False
        return bool(self._discordance(patient)[0])

    def adjudicate(self, *, patient, by, accepted_slot, reason) -> None:
        if not self.pending_adjudication(patient):
            raise DomainError("There is no discordance awaiting adjudication in this case.")
        adjudication = _new(
            Adjudication,
            patient=patient,
            accepted_slot=accepted_slot,
            reason=reason.strip(),
            adjudicator=by,
            covers_until=self._discordance(patient)[1],
            decided_at=timezone.now(),
        )
        self._add(adjudication, by)
        self.adjudicated.append((patient, timezone.now()))

    # treatment --------------------------------------------------------------------------------
    def drug_exposure_record(self, *, patient, by, **data) -> None:
        course = self._course(patient)
        previous = course.exposures.get(data["drug"])
        changed = bool(
            previous and (data["dose"] != previous.dose or data["unit"] != previous.unit)
        )
        if changed and not data.get("reason"):
            raise _refused("drug record", {"reason": ["The dose changed: give the reason."]})
        record = _new(DrugExposure, patient=patient, recorded_by=by, dose_changed=changed, **data)
        course.exposures[data["drug"]] = record
        self._add(record, by)

    def schedule_create(self, *, patient, by, first_planned_date, target_cells_per_m2) -> None:
        schedule = _new(
            InfusionSchedule,
            patient=patient,
            first_planned_date=first_planned_date,
            target_cells_per_m2=target_cells_per_m2,
            created_by=by,
            created_at=timezone.now(),
        )
        self._course(patient).schedule = schedule
        self._add(schedule, by)

    def dose_preview(self, *, patient, weight_kg, target_cells_per_m2) -> dict:
        schedule = self._course(patient).schedule
        bsa = dosing.rules.bsa_m2(
            height_cm=patient.screening.height_cm,
            weight_kg=weight_kg,
            formula=schedule.bsa_formula,
        )
        return {
            "computed_dose_cells": dosing.rules.cell_dose(
                target_cells_per_m2=target_cells_per_m2, bsa=bsa
            )
        }

    def _latest_weight(self, course: Course):
        given = [i for i in course.infusions if i.status == Infusion.GIVEN]
        return given[-1].weight_kg if given else course.screening.weight_kg

    def released_bag(self, *, patient, by, infused_at, batch_number) -> dict:
        """dosing.fixtures.released_bag: the apheresis (the first, on the day of
        randomization), a batch passing every release test, released."""
        course = self._course(patient)
        now = timezone.now()
        if course.apheresis is None:
            course.apheresis = _new(
                Apheresis,
                patient=patient,
                recorded_by=by,
                date=timezone.localdate(course.randomized_at),
                volume_ml=Decimal("180.0"),
                site="Apheresis unit",
            )
            self._add(course.apheresis, by)
        apheresis = course.apheresis
        batch = _new(
            ManufacturingBatch,
            apheresis=apheresis,
            patient=patient,
            recorded_by=by,
            batch_number=batch_number.strip(),
            manufactured_on=apheresis.date,
            expires_at=max(infused_at, now) + timedelta(days=30),
            cells_total=5 * 10**9,
            volume_ml=Decimal("100.0"),
        )
        self._add(batch, by, changes_later=True)
        weight = self._latest_weight(course)
        tests = []
        for assay, result in PASSING.items():
            test = _new(
                ReleaseTest,
                batch=batch,
                recorded_by=by,
                method="",
                assay=assay.value,
                tested_on=apheresis.date,
            )
            for name, value in result.items():
                setattr(test, name, value)
            dosing._judge_release_test(test, weight_kg=weight)
            tests.append(test)
            self._add(test, by)
        start_of_manufacture = timezone.make_aware(datetime.combine(apheresis.date, time.min))
        at = min(max(course.randomized_at, start_of_manufacture), now)
        problems = chain.release_problems(
            [t.as_result() for t in tests],
            expires_at=batch.expires_at,
            at=at,
            volume_ml=batch.volume_ml,
            weight_kg=weight,
        )
        if problems:
            raise _refused("release", {"released_at": problems})
        batch.released_at, batch.released_by = at, by
        self._version(batch, by, "~", dosing.RELEASE_REASON)
        course.batches[batch.batch_number] = (batch, tests)
        return {
            "batch_number": batch.batch_number,
            "bag_study_id": patient.study_id,
            "bag_date_of_birth": patient.screening.date_of_birth,
        }

    def infusion_record(self, *, patient, by, **data) -> Infusion:
        """dosing.services.infusion_record of a course given: the dose derived from the
        weight of the day, the schedule's course and its deviations, the bedside check."""
        course = self._course(patient)
        schedule = course.schedule
        number = len(course.infusions) + 1
        infusion = _new(
            Infusion,
            patient=patient,
            course_number=number,
            status=Infusion.GIVEN,
            recorded_by=by,
            bsa_formula=schedule.bsa_formula,
            deviation_reason="",
            **{k: v for k, v in data.items() if k in dosing._GIVEN_FIELDS},
        )
        first = course.infusions[0].infused_at if course.infusions else None
        planned = dosing.planned_courses(schedule, first_given=first)
        problems = dosing._derive(
            infusion, course=planned[number - 1], screening_height=course.screening.height_cm
        )
        batch, tests = course.batches.get(infusion.batch_number.strip(), (None, []))
        mismatches = dosing.bedside_check(
            infusion, patient=patient, batch=batch, tests=tests, used=None
        )
        dosing._refuse(problems, mismatches)
        course.infusions.append(infusion)
        self._add(infusion, by)
        return infusion

    def ae_record(self, *, patient, by, **data) -> None:
        course = self._course(patient)
        event = _new(
            AdverseEvent,
            patient=patient,
            recorded_by=by,
            **{k: v for k, v in data.items() if k in safety.ENTERED},
        )
        errors = safety.derive(
            event,
            consent=course.screening.consent_date,
            arm=course.arm,
            grade_given=data.get("grade") is not None,
        )
        if event.infusion is not None:
            problems = safety_rules.infusion_link_problems(
                onset=event.onset, infused_on=timezone.localdate(event.infusion.infused_at)
            )
            if problems:
                errors["infusion"] = problems
        if errors:
            raise _refused("adverse event", errors)
        self._add(event, by)

    def treatment_end_record(self, *, patient, by, **data) -> None:
        self._add(_new(TreatmentEnd, patient=patient, recorded_by=by, **data), by)

    # follow-up ---------------------------------------------------------------------------------
    def followup_record(self, *, patient, by, **data) -> None:
        self._add(_new(FollowUp, patient=patient, recorded_by=by, **data), by)

    def status_change_record(self, *, patient, by, **data) -> None:
        self._add(_new(StatusChange, patient=patient, recorded_by=by, **data), by)

    # writing ------------------------------------------------------------------------------------
    def _check_series(self, course: Course) -> None:
        """Each reader's series must evaluate under every criterion, as the read service
        checks it read by read (assessments.services._validate): once, whole."""
        for series in course.series.values():
            try:
                read_rules.check_series(series, enrolled=timezone.localdate(course.randomized_at))
            except ReadError as error:
                raise _refused("read", {"data": error.problems}) from None

    def write(self) -> None:
        """Every record kept, parents first, then its historical rows."""
        for course in self.courses.values():
            self._check_series(course)
        with connection.cursor() as cursor:
            for model in ORDER:
                rows = self.rows.pop(model, [])
                if rows:
                    _insert(cursor, model, rows)
                versions = self.versions.pop(model, [])
                if versions:
                    _insert_history(cursor, model, versions)
        adjudicated = [patient.pk for patient, _ in self.adjudicated]
        found = imaging.cases(adjudicated) if adjudicated else {}  # at once
        for patient, moment in self.adjudicated:  # as imaging.adjudicate stores them
            with time_machine.travel(moment, tick=False):
                imaging.series_refresh(patient, case=found.get(patient.pk))
        self.adjudicated.clear()
        self.patient_ids += [c.patient.pk for c in self.courses.values() if c is not self.current]
        self.courses = {id(self.current.patient): self.current} if self.current else {}
        self.pending = 0

    def finish(self) -> None:
        self.write()
        if self.current is not None:
            self.patient_ids.append(self.current.patient.pk)
        # the edit checks (datamanagement, above this app) run for them once this commits, as
        # the services' saves queue them
        records_written_in_bulk.send(sender=type(self), patient_ids=list(self.patient_ids))


def _reader(fields):
    """A function giving a record's values of `fields` as stored: a reference to a record
    written earlier in this batch by that record's id (assigned to it once written)."""
    attnames = [f.attname for f in fields]
    linked = [(i, f.name) for i, f in enumerate(fields) if f.is_relation]

    def read(record) -> list:
        stored = record.__dict__
        values = [stored[name] for name in attnames]
        cache = record._state.fields_cache
        for i, name in linked:
            if values[i] is None and (related := cache.get(name)) is not None:
                values[i] = related.pk
        return values

    return read


def _ids(cursor, model, count: int) -> list[int]:
    """`count` ids from the table's own sequence, in order (as INSERT would take them)."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return sorted(pk for (pk,) in cursor.fetchall())


def _insert(cursor, model, records) -> None:
    """Write the records (what bulk_create does, without its per-value machinery, which
    took most of the time), each with the id its table's sequence gives it first."""
    for record, pk in zip(records, _ids(cursor, model, len(records)), strict=True):
        record.pk = pk
        record._state.adding, record._state.db = False, connection.alias
    fields = model._meta.concrete_fields
    read = _reader(fields)
    bulk.copy(cursor, model, fields, (read(r) for r in records))


def _insert_history(cursor, model, versions: list[Version]) -> None:
    """The historical rows simple-history writes for the saves: every field's value at the
    time (references to records of the trial as they are now: none of them changes)."""
    fields = model._meta.concrete_fields
    final = {
        i
        for i, f in enumerate(fields)
        if f.primary_key or (f.is_relation and f.related_model in ORDER)
    }
    history = model.history.model  # (the manager is made anew on each access)
    extra = ["history_date", "history_change_reason", "history_type", "history_user_id"]
    read = _reader(fields)

    def rows():
        for v in versions:
            values = read(v.record)
            if v.snapshot is not None:
                values = [
                    value if i in final else v.snapshot[f.attname]
                    for i, (f, value) in enumerate(zip(fields, values, strict=True))
                ]
            yield values + [v.when, v.reason, v.kind, v.by.pk]

    bulk.copy(
        cursor,
        history,
        [history._meta.get_field(f.attname) for f in fields]
        + [history._meta.get_field(name) for name in extra],
        rows(),
    )
