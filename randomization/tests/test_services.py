from decimal import Decimal

import pytest
from django.core import mail

from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from randomization import sequence as seq
from randomization import services
from randomization.models import Allocation, AllocationSequence, SequenceAlert, Slot
from randomization.tests.test_sequence import balanced_rows, csv_of

pytestmark = pytest.mark.django_db


def in_force(statistician, data_manager, **options):
    """A coded sequence (the default) with its codes mapped by the administrator."""
    options = {"length": 84, "block_sizes": [2, 4], **options}
    sequence = services.sequence_generate(by=statistician, **options)
    services.arm_codes_set(sequence=sequence, by=data_manager, code_a_arm="RPI", reason="Map")
    return sequence


def slots_of(sequence, stratum=""):
    return [
        seq.Slot(s.position, s.block, s.block_size, s.arm)
        for s in sequence.slots.filter(stratum=stratum).order_by("position")
    ]


def test_generated_sequence_is_stored_and_regenerates_identically_from_its_seed(statistician):
    sequence = services.sequence_generate(by=statistician, length=84, block_sizes=[2, 4, 6])
    assert sequence.seed is not None and sequence.version == 1 and sequence.is_active
    stored = slots_of(sequence)
    assert len(stored) >= 84
    assert stored == seq.generate(
        seed=sequence.seed, length=84, block_sizes=[2, 4, 6], arms=("A", "B")
    )
    assert seq.block_balance(stored, ("A", "B"))


def test_stratified_sequence_has_one_reproducible_sequence_per_stratum(statistician):
    sequence = services.sequence_generate(
        by=statistician, length=90, block_sizes=[2, 4], seed=99, stratify_by="child_pugh_class"
    )
    for stratum in ("A", "B"):
        assert slots_of(sequence, stratum) == seq.generate(
            seed=seq.stratum_seed(99, stratum), length=90, block_sizes=[2, 4], arms=("A", "B")
        )
    assert slots_of(sequence, "A") != slots_of(sequence, "B")


def test_statistician_cannot_replace_a_sequence_in_force(statistician):
    services.sequence_generate(by=statistician, length=84, block_sizes=[2, 4])
    with pytest.raises(DomainError, match="only the administrator"):
        services.sequence_generate(by=statistician, length=84, block_sizes=[2, 4])
    assert AllocationSequence.objects.count() == 1


def test_administrator_replaces_only_with_a_reason_and_it_is_audited(statistician, data_manager):
    first = services.sequence_generate(by=statistician, length=84, block_sizes=[2, 4])
    with pytest.raises(DomainError, match="reason"):
        services.sequence_generate(by=data_manager, length=84, block_sizes=[2, 4], reason="")
    second = services.sequence_generate(
        by=data_manager, length=84, block_sizes=[2, 4], reason="Block size 4 alone is guessable"
    )
    first.refresh_from_db()
    assert (first.is_active, second.is_active, second.version) == (False, True, 2)
    assert history_of(first)[0]["reason"].endswith("Block size 4 alone is guessable")
    assert "unused slots left behind" in history_of(first)[0]["reason"]
    assert history_of(first)[0]["who"] == data_manager.username


def test_bad_parameters_are_refused_with_the_reasons(statistician):
    with pytest.raises(DomainError) as refused:
        services.sequence_generate(by=statistician, length=20, block_sizes=[3])
    problems = refused.value.field_errors["parameters"]
    assert any("at least 84" in p for p in problems) and any("Block size 3" in p for p in problems)
    assert not AllocationSequence.objects.exists()


def test_upload_is_refused_line_by_line(statistician, data_manager):
    text = csv_of(balanced_rows(84))
    bad = text.replace(",3,2,RPI", ",3,2,RPX")
    named = {"uses_codes": False, "uncoded_reason": "The list from the CRO names the arms"}
    with pytest.raises(DomainError) as refused:
        services.sequence_upload(by=data_manager, csv_text=bad, **named)
    assert refused.value.field_errors["file"][0].startswith("Line 4: Unknown arm 'RPX'")
    assert not AllocationSequence.objects.exists()
    sequence = services.sequence_upload(by=data_manager, csv_text=text, **named)
    assert sequence.method == "uploaded" and sequence.slots.count() == 84
    assert len(sequence.file_sha256) == 64


def test_randomization_takes_slots_in_order(statistician, data_manager, coordinator, enrol):
    sequence = in_force(statistician, data_manager, block_sizes=[2, 4, 6])
    expected = slots_of(sequence)
    allocations = [services.patient_randomize(patient=enrol(), by=coordinator) for _ in range(6)]
    assert [a.slot.position for a in allocations] == [1, 2, 3, 4, 5, 6]
    assert [a.slot.arm for a in allocations] == [s.arm for s in expected[:6]]
    assert [a.arm for a in allocations] == ["RPI" if s.arm == "A" else "RP" for s in expected[:6]]
    assert all(a.randomized_by == coordinator for a in allocations)


def test_a_patient_is_randomized_once(statistician, data_manager, coordinator, enrol):
    in_force(statistician, data_manager)
    patient = enrol()
    services.patient_randomize(patient=patient, by=coordinator)
    with pytest.raises(DomainError, match="already randomized"):
        services.patient_randomize(patient=patient, by=coordinator)
    assert Allocation.objects.count() == 1


def test_an_allocation_is_never_edited_or_deleted(statistician, data_manager, coordinator, enrol):
    in_force(statistician, data_manager)
    allocation = services.patient_randomize(patient=enrol(), by=coordinator)
    allocation.arm = "RP" if allocation.arm == "RPI" else "RPI"
    with pytest.raises(DomainError):
        allocation.save()
    with pytest.raises(DomainError):
        allocation.delete()
    with pytest.raises(DomainError):
        Slot.objects.all().delete()
    assert Allocation.objects.get().arm != allocation.arm


def test_no_sequence_is_refused_clearly(coordinator, enrol):
    with pytest.raises(DomainError, match="No allocation sequence"):
        services.patient_randomize(patient=enrol(), by=coordinator)


def test_exhausted_sequence_refuses_changes_nothing_and_alerts_the_administrator(
    statistician, coordinator, data_manager, enrol, settings
):
    coded = csv_of(balanced_rows(84)).replace(",RPI\n", ",A\n").replace(",RP\n", ",B\n")
    sequence = services.sequence_upload(by=statistician, csv_text=coded)
    services.arm_codes_set(sequence=sequence, by=data_manager, code_a_arm="RP", reason="Map")
    for _ in range(84):
        services.patient_randomize(patient=enrol(), by=coordinator)
    late = enrol()
    mail.outbox.clear()
    with pytest.raises(DomainError) as refused:
        services.patient_randomize(patient=late, by=coordinator)
    message = refused.value.message
    assert "administrator has been alerted" in message
    assert "84" not in message and "left" not in message  # nothing about the list's size
    assert Allocation.objects.count() == 84
    assert not Allocation.objects.filter(patient=late).exists()
    assert SequenceAlert.objects.get().patient == late
    assert mail.outbox[0].to == ["dm@example.org"]
    with pytest.raises(DomainError):  # trying again: refused again, no second alert
        services.patient_randomize(patient=late, by=coordinator)
    assert SequenceAlert.objects.count() == 1 and len(mail.outbox) == 1


def test_stratified_randomization_uses_the_patients_stratum(
    statistician, data_manager, coordinator, enrol
):
    in_force(statistician, data_manager, seed=5, stratify_by="child_pugh_class")
    a = services.patient_randomize(patient=enrol(), by=coordinator)
    b = services.patient_randomize(
        patient=enrol(albumin=Decimal("30"), inr=Decimal("1.8"), ascites="mild"), by=coordinator
    )
    assert (a.stratum, a.slot.position) == ("A", 1)
    assert (b.stratum, b.slot.position) == ("B", 1)


def test_coded_sequence_needs_the_administrators_mapping(
    statistician, coordinator, data_manager, enrol
):
    sequence = services.sequence_generate(
        by=statistician, length=84, block_sizes=[2, 4], seed=11, uses_codes=True
    )
    assert {s.arm for s in sequence.slots.all()} == {"A", "B"}
    patient = enrol()
    with pytest.raises(DomainError, match="not yet mapped"):
        services.patient_randomize(patient=patient, by=coordinator)
    services.arm_codes_set(sequence=sequence, by=data_manager, code_a_arm="RP", reason="Mapping")
    allocation = services.patient_randomize(patient=patient, by=coordinator)
    assert allocation.arm == ("RP" if allocation.slot.arm == "A" else "RPI")
    with pytest.raises(DomainError, match="codes are fixed"):
        services.arm_codes_set(sequence=sequence, by=data_manager, code_a_arm="RPI", reason="x")


def test_randomization_refused_when_the_baseline_scan_is_too_old(
    enrol, coordinator, statistician, data_manager
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from assessments import services as imaging

    in_force(statistician, data_manager, length=100, seed=3)
    today = timezone.localdate()
    patient = enrol(
        consent_date=today - timedelta(days=40),
        screening_date=today - timedelta(days=39),
        prior_progression_date=today - timedelta(days=45),
    )
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        imaging.scan_register(
            patient=patient,
            by=coordinator,
            scan_date=today - timedelta(days=30),
            kind="baseline",
            modality="CT",
            regions=["abdomen"],
        )
    with pytest.raises(DomainError) as refused:
        services.patient_randomize(patient=patient, by=coordinator)
    assert "more than 28 days old" in refused.value.message


def test_a_new_sequence_is_coded_unless_the_administrator_gives_a_reason(
    statistician, data_manager
):
    """The protocol's independent statistician is masked: codes A/B by default."""
    with pytest.raises(DomainError, match="only the administrator"):
        services.sequence_generate(by=statistician, length=84, block_sizes=[2, 4], uses_codes=False)
    with pytest.raises(DomainError) as refused:
        services.sequence_generate(by=data_manager, length=84, block_sizes=[2, 4], uses_codes=False)
    assert "uncoded_reason" in refused.value.field_errors
    assert not AllocationSequence.objects.exists()
    named = services.sequence_generate(
        by=data_manager,
        length=84,
        block_sizes=[2, 4],
        uses_codes=False,
        uncoded_reason="Open-label sensitivity list agreed with the DSMB",
    )
    assert {s.arm for s in named.slots.all()} == {"RPI", "RP"}
    assert named.uncoded_reason == "Open-label sensitivity list agreed with the DSMB"


def test_randomization_stops_at_84_until_the_administrator_allows_over_enrolment(
    statistician, data_manager, coordinator, enrol, api_as, client_as
):
    """The protocol randomizes 84: the 85th is refused with the reason and the administrator
    alerted; the administrator allows more with a reason, which the reports show."""
    sequence = in_force(statistician, data_manager, length=100)
    for _ in range(84):
        services.patient_randomize(patient=enrol(), by=coordinator)
    late = enrol()
    page = client_as(coordinator).get(f"/patients/{late.study_id}/randomize/").content.decode()
    assert 'id="over-enrolment"' in page and "84 patients are randomized" in page
    mail.outbox.clear()
    with pytest.raises(DomainError, match="over-enrolment: the administrator decides"):
        services.patient_randomize(patient=late, by=coordinator)
    assert Allocation.objects.count() == 84 and mail.outbox[0].to == ["dm@example.org"]
    with pytest.raises(DomainError, match="Only the administrator"):
        services.enrolment_limit_set(by=statistician, patients=90, reason="More power")
    api = api_as(data_manager)
    refused = api.post(
        "/api/randomization/enrolment-limit/", {"patients": 90, "reason": ""}, format="json"
    )
    assert refused.status_code == 400 and "reason" in refused.json()
    allowed = api.post(
        "/api/randomization/enrolment-limit/",
        {"patients": 86, "reason": "Two patients consented on the day the 84th was randomized"},
        format="json",
    )
    assert allowed.status_code == 201 and allowed.json()["limit"] == 86
    assert (
        api_as(coordinator)
        .post("/api/randomization/enrolment-limit/", {"patients": 99, "reason": "x"}, format="json")
        .status_code
        == 403
    )
    services.patient_randomize(patient=late, by=coordinator)
    services.patient_randomize(patient=enrol(), by=coordinator)
    with pytest.raises(DomainError, match="86 patients are randomized"):
        services.patient_randomize(patient=enrol(), by=coordinator)
    report = api_as(statistician).get("/api/randomization/report/").json()
    assert report["limit"] == 86 and report["over_enrolment"][0]["reason"].startswith("Two")
    shown = client_as(data_manager).get("/randomization/reports/").content.decode()
    assert "over-enrolment allowed up to 86" in shown and "Two patients consented" in shown
    assert sequence.slots.filter(allocation__isnull=False).count() == 86
