"""Cytokine release syndrome (CRS) and immune effector cell-associated neurotoxicity syndrome
(ICANS) graded by the ASTCT consensus (pure, no Django).

Source: Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine Release
Syndrome and Neurologic Toxicity Associated with Immune Effector Cells. Biol Blood Marrow
Transplant 2019;25:625-638 (Table "ASTCT CRS consensus grading", Table "Encephalopathy
assessment tools: ICE" and Table "ASTCT ICANS consensus grading for adults").

CRS
- Fever (temperature >= 38 C, not attributable to any other cause) is required. A patient who
  had CRS and then received antipyretic or anticytokine therapy (tocilizumab, steroids) no
  longer needs the fever: grading is then driven by hypotension and/or hypoxia.
- Grade 1: fever, no hypotension, no hypoxia.
- Grade 2: hypotension not requiring vasopressors and/or hypoxia requiring low-flow nasal
  cannula (<= 6 L/min) or blow-by.
- Grade 3: hypotension requiring a vasopressor with or without vasopressin and/or hypoxia
  requiring high-flow nasal cannula (> 6 L/min), facemask, nonrebreather mask or Venturi mask.
- Grade 4: hypotension requiring multiple vasopressors (excluding vasopressin) and/or hypoxia
  requiring positive pressure (CPAP, BiPAP, intubation and mechanical ventilation).
- The grade is that of the more severe of hypotension and hypoxia (the paper's example: 39.5 C,
  one vasopressor and low-flow nasal cannula is grade 3). Organ toxicities are graded by CTCAE
  v5.0 separately and do not change the CRS grade.

ICANS (adults; children aged 12 or under are assessed with the CAPD instead of the ICE score,
which this module does not implement: the trial enrols adults only)
- ICE score (10 points): orientation to year, month, city, hospital (4), naming 3 objects (3),
  following simple commands (1), writing a standard sentence (1), attention: counting backwards
  from 100 by 10 (1). ICE 10: no ICANS from this domain; 7-9 grade 1; 3-6 grade 2; 0-2 grade 3;
  0 because the patient is unarousable and unable to perform the ICE assessment: grade 4 (an
  awake patient with ICE 0, e.g. global aphasia, is grade 3).
- Depressed level of consciousness (attributable to no other cause, e.g. no sedation): awakens
  spontaneously 1; awakens to voice 2; awakens only to tactile stimulus 3; unarousable or needs
  vigorous or repetitive tactile stimuli to arouse, stupor or coma 4.
- Seizure: any clinical seizure, focal or generalised, that resolves rapidly, or nonconvulsive
  seizures on EEG that resolve with intervention 3; life-threatening prolonged seizure (> 5 min)
  or repetitive clinical or electrical seizures without return to baseline in between 4.
- Motor findings: deep focal motor weakness such as hemiparesis or paraparesis 4 (tremor and
  myoclonus are graded by CTCAE and do not change the ICANS grade).
- Elevated intracranial pressure / cerebral oedema: focal/local oedema on neuroimaging 3;
  diffuse cerebral oedema on neuroimaging, decerebrate or decorticate posturing, cranial nerve
  VI palsy, papilloedema or Cushing's triad 4 (intracranial haemorrhage, with or without
  oedema, is not an ICANS feature: graded by CTCAE).
- The ICANS grade is that of the most severe domain (the paper's example: ICE score 3 with a
  generalised seizure is grade 3).

Grade 5 (death due to CRS or ICANS, another cause not being the principal factor) is not derived
from these inputs: it is the CTCAE grade of a fatal event, recorded as such.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

FEVER_C = 38.0
LOW_FLOW_MAX_L_MIN = 6

# CRS inputs: the support the patient needs, each choice with the grade it gives.
HYPOTENSION = {
    "none": ("None", 0),
    "no_vasopressor": ("Hypotension not requiring vasopressors", 2),
    "one_vasopressor": ("Requiring one vasopressor, with or without vasopressin", 3),
    "multiple_vasopressors": ("Requiring multiple vasopressors (excluding vasopressin)", 4),
}
OXYGEN = {
    "none": ("None", 0),
    "low_flow": ("Low-flow nasal cannula (<= 6 L/min) or blow-by", 2),
    "high_flow_or_mask": (
        "High-flow nasal cannula (> 6 L/min), facemask, nonrebreather or Venturi mask",
        3,
    ),
    "positive_pressure": (
        "Positive pressure (CPAP, BiPAP, intubation and mechanical ventilation)",
        4,
    ),
}

# ICANS inputs.
ICE_ITEMS = {  # item: (label, maximum points)
    "orientation": ("Orientation to year, month, city, hospital", 4),
    "naming": ("Naming 3 objects (e.g. clock, pen, button)", 3),
    "commands": ("Following simple commands", 1),
    "writing": ("Writing a standard sentence", 1),
    "attention": ("Counting backwards from 100 by 10", 1),
}
ICE_MAX = sum(points for _, points in ICE_ITEMS.values())  # 10
CONSCIOUSNESS = {
    "normal": ("Not depressed", 0),
    "awakens_spontaneously": ("Awakens spontaneously", 1),
    "awakens_to_voice": ("Awakens to voice", 2),
    "awakens_to_touch": ("Awakens only to tactile stimulus", 3),
    "unarousable": (
        "Unarousable, or requires vigorous or repetitive tactile stimuli to arouse; stupor or coma",
        4,
    ),
}
SEIZURE = {
    "none": ("None", 0),
    "resolving": (
        "Clinical seizure (focal or generalised) that resolves rapidly, or nonconvulsive "
        "seizures on EEG that resolve with intervention",
        3,
    ),
    "life_threatening": (
        "Life-threatening prolonged seizure (> 5 min), or repetitive clinical or electrical "
        "seizures without return to baseline in between",
        4,
    ),
}
MOTOR = {
    "none": ("None", 0),
    "deep_focal_weakness": ("Deep focal motor weakness (hemiparesis, paraparesis)", 4),
}
ICP = {
    "none": ("None", 0),
    "focal_oedema": ("Focal/local oedema on neuroimaging", 3),
    "diffuse_oedema_or_signs": (
        "Diffuse cerebral oedema on neuroimaging; decerebrate or decorticate posturing; cranial "
        "nerve VI palsy; papilloedema; or Cushing's triad",
        4,
    ),
}


class NotGradable(ValueError):
    """The inputs are incomplete or do not make the syndrome. `errors`: field -> messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


@dataclass(frozen=True)
class CrsInputs:
    max_temperature_c: float | None
    hypotension: str = "none"
    oxygen: str = "none"
    antipyretic_or_anticytokine: bool = False  # had fever, then tocilizumab/steroids/antipyretics


@dataclass(frozen=True)
class IcansInputs:
    ice: dict[str, int] | None  # item -> points; None: not assessable because unarousable
    consciousness: str = "normal"
    seizure: str = "none"
    motor: str = "none"
    icp: str = "none"


def _choice(errors, field, value, table) -> int:
    if not isinstance(value, str) or value not in table:
        errors.setdefault(field, []).append(f"Choose one of: {', '.join(table)}.")
        return 0
    return table[value][1]


def crs_grade(inputs: CrsInputs) -> int:
    """The ASTCT CRS grade (1-4); NotGradable when it is not CRS by the consensus definition."""
    errors: dict[str, list[str]] = {}
    hypotension = _choice(errors, "hypotension", inputs.hypotension, HYPOTENSION)
    oxygen = _choice(errors, "oxygen", inputs.oxygen, OXYGEN)
    temperature = inputs.max_temperature_c
    if temperature is not None and not 30 <= temperature <= 45:
        errors.setdefault("max_temperature_c", []).append("A body temperature in C (30-45).")
    febrile = temperature is not None and temperature >= FEVER_C
    if not febrile and not inputs.antipyretic_or_anticytokine:
        errors.setdefault("max_temperature_c", []).append(
            f"CRS needs a fever >= {FEVER_C:.1f} C (unless the fever was treated with "
            "antipyretic or anticytokine therapy)."
        )
    if errors:
        raise NotGradable(errors)
    grade = max(hypotension, oxygen)
    if grade == 0:
        if not febrile:
            raise NotGradable(
                {
                    "max_temperature_c": [
                        "Without fever, CRS is graded by hypotension or hypoxia: neither given."
                    ]
                }
            )
        return 1
    return grade


def ice_score(ice: dict[str, int]) -> int:
    """The ICE score (0-10) from its five items; ValueError naming the item out of range."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(ice) - set(ICE_ITEMS))
    for item in unknown:
        errors.setdefault("ice", []).append(f"Not an ICE item: {item}.")
    total = 0
    for item, (label, points) in ICE_ITEMS.items():
        value = ice.get(item)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= points:
            errors.setdefault(f"ice_{item}", []).append(f"{label}: 0 to {points} points.")
        else:
            total += value
    if errors:
        raise NotGradable(errors)
    return total


def ice_grade(score: int | None) -> int:
    """The ICE domain's grade; None is 'unarousable, unable to perform ICE' (grade 4)."""
    if score is None:
        return 4
    if score == ICE_MAX:
        return 0
    if score >= 7:
        return 1
    if score >= 3:
        return 2
    return 3


def icans_domains(inputs: IcansInputs) -> dict[str, int]:
    """The grade each domain gives (0: none)."""
    errors: dict[str, list[str]] = {}
    domains = {
        "consciousness": _choice(errors, "consciousness", inputs.consciousness, CONSCIOUSNESS),
        "seizure": _choice(errors, "seizure", inputs.seizure, SEIZURE),
        "motor": _choice(errors, "motor", inputs.motor, MOTOR),
        "icp": _choice(errors, "icp", inputs.icp, ICP),
    }
    score = None
    if inputs.ice is not None:
        try:
            score = ice_score(inputs.ice)
        except NotGradable as problem:
            errors.update(problem.errors)
    elif inputs.consciousness != "unarousable":
        errors.setdefault("ice_unarousable", []).append(
            "The ICE score is left out only for an unarousable patient."
        )
    if errors:
        raise NotGradable(errors)
    return {"ice": ice_grade(score), **domains}


def icans_grade(inputs: IcansInputs) -> int:
    """The ASTCT ICANS grade (1-4): the most severe domain; NotGradable when no domain shows
    neurotoxicity."""
    grade = max(icans_domains(inputs).values())
    if grade == 0:
        raise NotGradable(
            {"ice": ["ICE score 10 and no other finding: this is not ICANS by the consensus."]}
        )
    return grade


CRS, ICANS = "crs", "icans"


def grade_of(syndrome: str, inputs: dict) -> int:
    """The grade from the stored inputs (a dict, as a record keeps them)."""
    if syndrome == CRS:
        return crs_grade(crs_inputs(inputs))
    if syndrome == ICANS:
        return icans_grade(icans_inputs(inputs))
    raise ValueError(f"not a cell-therapy syndrome: {syndrome}")


CRS_KEYS = ("max_temperature_c", "antipyretic_or_anticytokine", "hypotension", "oxygen")
ICANS_KEYS = (
    *(f"ice_{item}" for item in ICE_ITEMS),
    "ice_unarousable",
    "consciousness",
    "seizure",
    "motor",
    "icp",
)


def _unknown(inputs: dict, keys) -> None:
    extra = sorted(set(inputs) - set(keys))
    if extra:
        raise NotGradable({key: ["Not an input of this grading."] for key in extra})


def crs_inputs(inputs: dict) -> CrsInputs:
    _unknown(inputs, CRS_KEYS)
    temperature = inputs.get("max_temperature_c")
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, int | float)
    ):
        raise NotGradable({"max_temperature_c": ["A temperature in C."]})
    return CrsInputs(
        max_temperature_c=None if temperature is None else float(temperature),
        hypotension=inputs.get("hypotension") or "none",
        oxygen=inputs.get("oxygen") or "none",
        antipyretic_or_anticytokine=bool(inputs.get("antipyretic_or_anticytokine")),
    )


def icans_inputs(inputs: dict) -> IcansInputs:
    _unknown(inputs, ICANS_KEYS)
    unarousable = bool(inputs.get("ice_unarousable"))
    ice = None if unarousable else {item: inputs.get(f"ice_{item}") for item in ICE_ITEMS}
    if unarousable and inputs.get("consciousness", "unarousable") != "unarousable":
        raise NotGradable(
            {"consciousness": ["Unable to perform ICE because unarousable: say so here too."]}
        )
    return IcansInputs(
        ice=ice,
        consciousness=inputs.get("consciousness") or ("unarousable" if unarousable else "normal"),
        seizure=inputs.get("seizure") or "none",
        motor=inputs.get("motor") or "none",
        icp=inputs.get("icp") or "none",
    )


# How the syndromes are recorded as CTCAE v5.0 adverse events (safety/data/ctcae_v5.csv).
CRS_TERM = "Cytokine release syndrome"
# CTCAE v5.0 has no ICANS term. "Encephalopathy" would mix ICANS with the hepatic encephalopathy
# of a liver-cancer trial, so ICANS is recorded under "Nervous system disorders - Other,
# specify" with the syndrome named in the specification, graded by ASTCT as the paper advises.
ICANS_TERM = "Nervous system disorders - Other, specify"
ICANS_SPECIFICATION = "Immune effector cell-associated neurotoxicity syndrome (ICANS)"


def syndrome_of(term: str, specification: str = "") -> str | None:
    """CRS, ICANS or None for an adverse event's CTCAE term and specification."""
    if term == CRS_TERM:
        return CRS
    text = specification.lower()
    if term == ICANS_TERM and ("icans" in text or "immune effector cell" in text):
        return ICANS
    return None


INPUT_LABELS = {
    "max_temperature_c": "Maximum temperature (°C)",
    "antipyretic_or_anticytokine": "Fever masked by antipyretic or anticytokine treatment",
    "ice_unarousable": "Unarousable (no ICE score)",
    "hypotension": "Hypotension",
    "oxygen": "Hypoxia",
    "consciousness": "Level of consciousness",
    "seizure": "Seizure",
    "motor": "Motor findings",
    "icp": "Elevated ICP / cerebral oedema",
}
INPUT_CHOICES = {
    "hypotension": HYPOTENSION,
    "oxygen": OXYGEN,
    "consciousness": CONSCIOUSNESS,
    "seizure": SEIZURE,
    "motor": MOTOR,
    "icp": ICP,
}


def inputs_shown(inputs) -> list[tuple[str, str]]:
    """Stored ASTCT inputs as a person reads them: each input with its choice's wording, and
    the ICE score once every ICE item is there (the event page and the casebook PDF)."""
    if not isinstance(inputs, dict):
        return []
    rows = []
    for name, value in inputs.items():
        if name in INPUT_CHOICES:
            value = INPUT_CHOICES[name].get(value, (value, 0))[0]
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        item = ICE_ITEMS.get(name.removeprefix("ice_"))
        if name in INPUT_LABELS:
            label = INPUT_LABELS[name]
        elif name.startswith("ice_") and item:
            label = f"ICE: {item[0]}"
        else:
            label = name.replace("_", " ").capitalize()
        rows.append((label, str(value)))
    ice = {item: inputs.get(f"ice_{item}") for item in ICE_ITEMS}
    if all(isinstance(points, int) for points in ice.values()):
        with contextlib.suppress(NotGradable):
            rows.append(("ICE score", f"{ice_score(ice)}/{ICE_MAX}"))
    return rows
