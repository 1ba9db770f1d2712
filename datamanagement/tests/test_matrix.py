"""The casebook matrix's states, from worked examples (datamanagement/matrix.py, pure): each
state, the precedence when several apply, the windows, the RP arm, a schedule stopped by a
death or by progression."""

from datetime import date, timedelta

from datamanagement import matrix
from datamanagement.matrix import (
    DUE,
    ENTERED,
    LOCKED,
    NONE,
    NOT_APPLICABLE,
    NOT_DUE,
    OVERDUE,
    QUERIED,
    VERIFIED,
    Entry,
    PatientRecords,
)
from enrollment import status
from enrollment.status import Change, DrugEnd

ENROLLED = date(2026, 1, 2)
DAY0 = date(2026, 1, 5)  # randomized: the visits count from here
RPI, RP = status.drugs_of_arm(True), status.drugs_of_arm(False)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def entry(n: int, record="safety.adverseevent", pk=1, **flags) -> Entry:
    return Entry(record, pk, day(n), **flags)


def patient(drugs=RPI, changes=(), ends=(), randomized=DAY0, **records) -> PatientRecords:
    path = status.course(
        enrolled=ENROLLED,
        randomized=randomized,
        drugs=drugs if randomized else (),
        ends=ends,
        changes=changes,
    )
    inkt_stop = status.treatment_stop(changes, ends, status.INKT)
    return PatientRecords(
        enrolled=ENROLLED,
        randomized=randomized,
        inkt_arm=(status.INKT in drugs) if randomized else None,
        path=path,
        inkt_stop=inkt_stop.day if inkt_stop else None,
        screening=Entry("enrollment.screening", 1, ENROLLED),
        allocation=Entry("randomization.allocation", 1, DAY0) if randomized else None,
        **records,
    )


def cells(records: PatientRecords, today: date, visits: int = 3) -> dict[str, matrix.Cell]:
    found = matrix.row(records, today=today, visits=visits)
    assert [c.column for c in found] == [c.key for c in matrix.columns(visits)]
    return {c.column: c for c in found}


def states(records, today, visits=3) -> dict[str, str]:
    return {key: cell.state for key, cell in cells(records, today, visits).items()}


# One record's state, and the precedence ---------------------------------------------------------


def test_a_record_is_entered_verified_queried_or_locked():
    frozen = day(10)
    assert matrix.record_state(entry(20), frozen) == ENTERED
    assert matrix.record_state(entry(20, verified=True), frozen) == VERIFIED
    assert matrix.record_state(entry(20, queried=True), frozen) == QUERIED
    assert matrix.record_state(entry(10), frozen) == LOCKED  # on the frozen date itself
    assert matrix.record_state(entry(10), None) == ENTERED


def test_locked_before_queried_before_verified_before_entered():
    both = entry(5, queried=True, verified=True)
    assert matrix.record_state(both, None) == QUERIED
    assert matrix.record_state(both, day(5)) == LOCKED
    assert matrix.record_state(entry(5, verified=True), day(5)) == LOCKED
    # a query on the patient's visit makes its verified record queried, not a locked one
    assert matrix.records_state([entry(5, verified=True)], None, queried=True) == QUERIED
    assert matrix.records_state([entry(5, verified=True)], day(5), queried=True) == LOCKED


def test_a_log_is_queried_if_any_record_is_locked_only_when_all_are():
    locked, queried, verified = entry(1), entry(20, queried=True), entry(21, verified=True)
    frozen = day(10)
    assert matrix.records_state([locked, queried], frozen) == QUERIED
    assert matrix.records_state([locked, entry(2)], frozen) == LOCKED
    assert matrix.records_state([locked, verified], frozen) == VERIFIED
    assert matrix.records_state([verified, entry(22)], frozen) == ENTERED


# Windows ---------------------------------------------------------------------------------------


def test_a_missing_form_is_not_due_due_then_overdue_by_its_window():
    window = matrix.Window(day(10), day(20))
    assert matrix.pending_state(window, day(9)) == NOT_DUE
    assert matrix.pending_state(window, day(10)) == DUE
    assert matrix.pending_state(window, day(20)) == DUE
    assert matrix.pending_state(window, day(21)) == OVERDUE
    assert matrix.pending_state(matrix.Window(day(10), None), day(400)) == DUE
    assert matrix.pending_state(None, day(400)) == NOT_DUE  # not scheduled yet


def test_courses_follow_the_schedule_from_the_first_course_given():
    # planned on day 2, window +/- 3; course 1 given on day 4: course k is planned 4 + 14(k-1)
    records = patient(
        schedule_planned=day(2),
        first_course_given=day(4),
        courses={1: entry(4, "dosing.infusion")},
    )
    found = cells(records, today=day(32))
    assert found["course-1"].state == ENTERED
    assert found["course-2"].window == matrix.Window(day(15), day(21))
    assert found["course-2"].state == OVERDUE
    assert found["course-3"].state == DUE  # window day 29 to 35
    assert found["course-4"].state == NOT_DUE  # opens day 43
    assert found["course-4"].window.opens == day(43)


def test_before_the_schedule_course_1_is_due_for_90_days_from_randomization():
    found = states(patient(), today=day(30))
    assert found["course-1"] == DUE
    assert [found[f"course-{k}"] for k in range(2, 7)] == [NOT_DUE] * 5
    assert states(patient(), today=day(91))["course-1"] == OVERDUE


def test_an_rp_patient_has_no_inkt_course():
    found = cells(patient(drugs=RP), today=day(30))
    assert {found[f"course-{k}"].state for k in range(1, 7)} == {NOT_APPLICABLE}
    assert "RP arm" in found["course-1"].why


def test_imaging_and_questionnaire_visits_every_8_weeks_from_randomization():
    records = patient(
        baseline_scan=entry(-2, "assessments.scan"),
        scans=[entry(70, "assessments.scan", pk=2)],  # visit 1 (day 49-63), done late
        questionnaires={"visit-1": entry(60, "assessments.questionnaire")},
    )
    found = cells(records, today=day(110))
    assert found["scan-baseline"].state == ENTERED
    assert found["qlq-baseline"].state == OVERDUE  # closed at randomization, missing
    assert found["scan-1"].window == matrix.Window(day(49), day(63))
    assert found["scan-1"].state == ENTERED  # a late scan still belongs to its visit
    assert found["qlq-1"].state == ENTERED
    assert found["scan-2"].state == DUE  # day 105 to 119
    assert found["scan-3"].state == NOT_DUE


def test_before_randomization_the_baselines_and_randomization_are_due():
    found = states(patient(randomized=None), today=day(1))
    assert found["randomization"] == DUE
    assert found["scan-baseline"] == DUE and found["qlq-baseline"] == DUE
    assert found["scan-1"] == NOT_DUE and found["course-1"] == NOT_DUE
    assert found["follow-up"] == NOT_DUE and found["status"] == NOT_DUE


def test_a_query_on_a_missing_visit_shows_queried():
    records = patient(visit_queries={"scan-visit-1", "qlq-visit-2"})
    found = states(records, today=day(80))
    assert found["scan-1"] == QUERIED
    assert found["qlq-1"] == OVERDUE
    assert found["qlq-2"] == QUERIED  # raised before the window: still shown


def test_records_frozen_by_a_lock_show_locked():
    records = patient(
        baseline_scan=entry(-2, "assessments.scan", queried=True),
        adverse_events=[entry(3), entry(40, pk=2)],
        frozen_until=day(30),
    )
    found = states(records, today=day(60))
    assert found["screening"] == LOCKED and found["randomization"] == LOCKED
    assert found["scan-baseline"] == LOCKED  # even with its query
    assert found["adverse-events"] == ENTERED  # one of two events is after the lock
    assert found["scan-1"] == DUE  # nothing entered: a lock freezes records


def test_the_adverse_event_log_is_none_or_its_records_state():
    assert states(patient(), today=day(10))["adverse-events"] == NONE
    found = states(patient(adverse_events=[entry(3, verified=True)]), today=day(10))
    assert found["adverse-events"] == VERIFIED


def test_visits_shown_are_those_opened_for_the_first_randomized_patient():
    assert matrix.visits_opened(None, day(0)) == 1
    assert matrix.visits_opened(DAY0, day(48)) == 1
    assert matrix.visits_opened(DAY0, day(105)) == 2  # visit 2 opens on day 105
    assert matrix.visits_opened(DAY0, day(50_000)) == matrix.MAX_VISITS


# The course stops the schedule -------------------------------------------------------------------


def test_a_dead_patients_schedule_stops_at_the_death():
    death = Change(status.DEATH, day(40), cause="liver failure")
    records = patient(
        changes=[death],
        schedule_planned=day(2),
        first_course_given=day(2),
        courses={1: entry(2, "dosing.infusion"), 2: entry(16, "dosing.infusion", pk=2)},
        course_records=[entry(40, "enrollment.statuschange")],
    )
    found = cells(records, today=day(200))
    assert found["course-3"].state == OVERDUE  # its window (day 27-33) closed before the death
    assert [found[f"course-{k}"].state for k in (4, 5, 6)] == [NOT_APPLICABLE] * 3
    assert "stopped" in found["course-4"].why
    assert {found[f"scan-{k}"].state for k in (1, 2, 3)} == {NOT_APPLICABLE}
    assert {found[f"qlq-{k}"].state for k in (1, 2, 3)} == {NOT_APPLICABLE}
    assert found["qlq-eot"].state == NOT_APPLICABLE  # treatment ended by the death
    assert found["follow-up"].state == NOT_APPLICABLE
    assert found["status"].state == ENTERED


def test_progression_on_the_accepted_reads_stops_imaging_and_treatment():
    progression = [DrugEnd(d, day(56), status.PROGRESSION) for d in RP]
    records = patient(
        drugs=RP,
        ends=progression,
        progression=day(56),
        scans=[entry(56, "assessments.scan")],
    )
    found = cells(records, today=day(200))
    assert found["scan-1"].state == ENTERED
    assert found["scan-2"].state == NOT_APPLICABLE  # opens day 105, after progression
    assert found["qlq-2"].state == NOT_APPLICABLE
    assert found["qlq-1"].state == OVERDUE
    assert found["qlq-eot"].state == DUE  # from the end of treatment, no closing
    assert found["qlq-eot"].window == matrix.Window(day(56), None)
    assert found["follow-up"].state == DUE
    assert found["status"].state == ENTERED  # derived from the reads: nothing to enter
    assert "progression" in found["status"].why.lower()


def test_a_withdrawal_of_consent_to_treatment_keeps_the_visits():
    withdrawal = Change(status.WITHDRAWAL_TREATMENT, day(20))
    records = patient(changes=[withdrawal], course_records=[entry(20, "enrollment.statuschange")])
    found = cells(records, today=day(60))
    # no schedule yet: course 1 was due from randomization, its window closed by the stop
    assert found["course-1"].state == OVERDUE
    assert found["course-1"].window == matrix.Window(DAY0, day(20))
    assert found["course-2"].state == NOT_APPLICABLE
    found = {key: cell.state for key, cell in found.items()}
    assert found["scan-1"] == DUE  # follow-up goes on: the visits too
    assert found["follow-up"] == DUE and found["qlq-eot"] == DUE


def test_off_study_before_randomization_leaves_nothing_due():
    lost = Change(status.LOST, ENROLLED + timedelta(days=1))
    found = states(patient(randomized=None, changes=[lost]), today=day(10))
    assert found["randomization"] == NOT_APPLICABLE
    assert found["scan-baseline"] == NOT_APPLICABLE and found["course-1"] == NOT_APPLICABLE


def test_the_filter_finds_a_state_among_the_columns_shown():
    found = matrix.row(patient(), today=day(100), visits=2)
    assert matrix.any_state(found, {OVERDUE})
    assert not matrix.any_state(found, {OVERDUE}, keys={"screening", "randomization"})
    assert not matrix.any_state(found, {LOCKED})


def test_the_cell_product_visits_medications_and_history_are_logs_the_cell_product_rpi_only():
    medication = entry(-10, "enrollment.concomitantmedication")
    visit = entry(14, "safety.clinicalvisit", verified=True)
    lab = entry(14, "safety.labvalue", pk=2)
    batch = entry(3, "dosing.manufacturingbatch")
    rpi = states(
        patient(
            medications=[medication],
            clinical_visits=[visit, lab],
            cell_product=[batch],
            frozen_until=day(5),
        ),
        day(30),
    )
    assert (rpi["medications"], rpi["history"]) == (LOCKED, NONE)
    assert rpi["visits"] == ENTERED  # the lab value is not verified yet
    assert rpi["cell-product"] == LOCKED
    rp = cells(patient(drugs=RP), day(30))
    assert rp["cell-product"].state == NOT_APPLICABLE
    assert rp["cell-product"].why == "RP arm: no iNKT cells"
