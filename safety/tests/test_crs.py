"""ASTCT consensus grading (Lee DW et al., Biol Blood Marrow Transplant 2019;25:625-638): one
test per cell of the paper's CRS and adult ICANS tables, and the paper's own examples."""

import pytest

from safety.crs import (
    ICE_MAX,
    CrsInputs,
    IcansInputs,
    NotGradable,
    crs_grade,
    grade_of,
    icans_domains,
    icans_grade,
    ice_grade,
    ice_score,
)

FULL_ICE = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}


def crs(temperature=38.5, hypotension="none", oxygen="none", treated=False):
    return crs_grade(CrsInputs(temperature, hypotension, oxygen, treated))


# CRS table, row "Fever": temperature >= 38 C at every grade
def test_crs_grade_1_is_fever_without_hypotension_or_hypoxia():
    assert crs(38.0) == 1


def test_crs_needs_fever_of_38():
    with pytest.raises(NotGradable) as refused:
        crs(37.9, hypotension="no_vasopressor")
    assert "max_temperature_c" in refused.value.errors
    with pytest.raises(NotGradable):
        crs(None)


def test_after_antipyretic_or_anticytokine_therapy_fever_is_not_required():
    assert crs(36.8, hypotension="one_vasopressor", treated=True) == 3
    with pytest.raises(NotGradable):  # then hypotension or hypoxia drive the grade: none given
        crs(36.8, treated=True)


# CRS table, row "Hypotension"
def test_crs_grade_2_hypotension_not_requiring_vasopressors():
    assert crs(hypotension="no_vasopressor") == 2


def test_crs_grade_3_hypotension_requiring_one_vasopressor_with_or_without_vasopressin():
    assert crs(hypotension="one_vasopressor") == 3


def test_crs_grade_4_multiple_vasopressors_excluding_vasopressin():
    assert crs(hypotension="multiple_vasopressors") == 4


# CRS table, row "Hypoxia"
def test_crs_grade_2_low_flow_nasal_cannula_or_blow_by():
    assert crs(oxygen="low_flow") == 2


def test_crs_grade_3_high_flow_nasal_cannula_facemask_nonrebreather_or_venturi():
    assert crs(oxygen="high_flow_or_mask") == 3


def test_crs_grade_4_positive_pressure():
    assert crs(oxygen="positive_pressure") == 4


def test_the_papers_example_39_5_one_vasopressor_and_low_flow_is_grade_3():
    assert crs(39.5, hypotension="one_vasopressor", oxygen="low_flow") == 3


def test_the_more_severe_of_hypotension_and_hypoxia_decides():
    assert crs(hypotension="no_vasopressor", oxygen="positive_pressure") == 4
    assert crs(hypotension="multiple_vasopressors", oxygen="low_flow") == 4


def test_unknown_choices_are_refused_by_field():
    with pytest.raises(NotGradable) as refused:
        crs(hypotension="dopamine", oxygen="tent")
    assert set(refused.value.errors) == {"hypotension", "oxygen"}


# ICE (encephalopathy assessment tool): 10 points
def test_ice_score_sums_its_five_items_to_10():
    assert ICE_MAX == 10
    assert ice_score(FULL_ICE) == 10
    assert ice_score({**FULL_ICE, "orientation": 2, "writing": 0}) == 7


def test_ice_item_out_of_range_is_refused():
    with pytest.raises(NotGradable) as refused:
        ice_score({**FULL_ICE, "naming": 4})
    assert "ice_naming" in refused.value.errors


@pytest.mark.parametrize(
    "score, grade",
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3), (None, 4)],
)
def test_ice_row_of_the_icans_table(score, grade):
    assert ice_grade(score) == grade


def icans(ice=FULL_ICE, **domains):
    return icans_grade(IcansInputs(ice, **domains))


def test_ice_0_awake_with_global_aphasia_is_grade_3_but_unarousable_is_grade_4():
    zero = dict.fromkeys(FULL_ICE, 0)
    assert icans(zero, consciousness="normal") == 3
    assert icans(None, consciousness="unarousable") == 4


# Depressed level of consciousness row
@pytest.mark.parametrize(
    "level, grade",
    [
        ("awakens_spontaneously", 1),
        ("awakens_to_voice", 2),
        ("awakens_to_touch", 3),
        ("unarousable", 4),
    ],
)
def test_depressed_level_of_consciousness_row(level, grade):
    assert icans(consciousness=level) == grade


# Seizure row: N/A at grades 1-2
def test_seizure_that_resolves_rapidly_is_grade_3():
    assert icans(seizure="resolving") == 3


def test_prolonged_or_repetitive_seizure_is_grade_4():
    assert icans(seizure="life_threatening") == 4


# Motor findings row: grade 4 only
def test_deep_focal_motor_weakness_is_grade_4():
    assert icans(motor="deep_focal_weakness") == 4


# Elevated ICP / cerebral oedema row: grades 3-4
def test_focal_oedema_on_neuroimaging_is_grade_3():
    assert icans(icp="focal_oedema") == 3


def test_diffuse_oedema_posturing_cn_vi_palsy_papilloedema_or_cushing_is_grade_4():
    assert icans(icp="diffuse_oedema_or_signs") == 4


def test_the_papers_example_ice_3_with_a_generalised_seizure_is_grade_3():
    three = {"orientation": 2, "naming": 1, "commands": 0, "writing": 0, "attention": 0}
    assert icans(three, seizure="resolving") == 3
    domains = icans_domains(IcansInputs(three, seizure="resolving"))
    assert domains["ice"] == 2 and domains["seizure"] == 3


def test_the_most_severe_domain_decides():
    assert icans({**FULL_ICE, "orientation": 3}, consciousness="awakens_to_voice") == 2


def test_no_finding_is_not_icans():
    with pytest.raises(NotGradable):
        icans()


def test_ice_left_out_only_when_unarousable():
    with pytest.raises(NotGradable) as refused:
        icans(None, consciousness="awakens_to_voice")
    assert "ice_unarousable" in refused.value.errors


def test_grade_of_reads_the_stored_inputs():
    assert grade_of("crs", {"max_temperature_c": 39.0, "hypotension": "one_vasopressor"}) == 3
    stored = {f"ice_{k}": v for k, v in FULL_ICE.items()} | {"ice_writing": 0}
    assert grade_of("icans", stored) == 1
    assert grade_of("icans", {"ice_unarousable": True}) == 4
    with pytest.raises(NotGradable):
        grade_of("crs", {"max_temperature_c": "hot"})
    with pytest.raises(NotGradable):
        grade_of("crs", {"max_temperature_c": 39.0, "ferritin": 900})


def test_the_ctcae_terms_the_syndromes_are_recorded_under():
    from safety import ctcae
    from safety.crs import CRS_TERM, ICANS_SPECIFICATION, ICANS_TERM, syndrome_of

    names = {t.term for t in ctcae.read_terms()}
    assert {CRS_TERM, ICANS_TERM} <= names
    assert syndrome_of(CRS_TERM) == "crs"
    assert syndrome_of(ICANS_TERM, ICANS_SPECIFICATION) == "icans"
    assert syndrome_of(ICANS_TERM, "Peripheral neuropathy, other") is None
    assert syndrome_of("Encephalopathy") is None  # hepatic encephalopathy stays CTCAE-graded


def test_odd_stored_inputs_are_refused_not_failed():
    for odd in (
        {"max_temperature_c": 39.0, "hypotension": ["one_vasopressor"]},
        {"max_temperature_c": 1e308},
        {"max_temperature_c": True},
    ):
        with pytest.raises(NotGradable):
            grade_of("crs", odd)
    for odd in ({"ice_orientation": 2.5}, {"seizure": {"x": 1}, "ice_unarousable": True}):
        with pytest.raises(NotGradable):
            grade_of("icans", odd)


def test_stored_inputs_read_with_their_wording_and_the_ice_score():
    from safety import crs

    rows = crs.inputs_shown(
        {
            "max_temperature_c": 38.9,
            "hypotension": "one_vasopressor",
            "ice_orientation": 3,
            "ice_naming": 3,
            "ice_commands": 1,
            "ice_writing": 0,
            "ice_attention": 1,
        }
    )
    assert rows[0] == ("Maximum temperature (°C)", "38.9")
    assert rows[1] == ("Hypotension", crs.HYPOTENSION["one_vasopressor"][0])
    assert ("ICE: Writing a standard sentence", "0") in rows
    assert rows[-1] == ("ICE score", "8/10")
    assert crs.inputs_shown(None) == [] and crs.inputs_shown({"ice_orientation": 4}) == [
        ("ICE: Orientation to year, month, city, hospital", "4")
    ]
