"""Concomitant medications and medical history: the warnings a trial of regorafenib with a
PD-1 antibody needs, and the partial dates a medical history is told in. Pure rules: no Django.

Sources, each rule's own in its docstring:
- Stivarga (regorafenib) US prescribing information, section 7 Drug Interactions (7.1 strong
  CYP3A4 inducers, 7.2 strong CYP3A4 inhibitors) and section 12.3;
- FDA, "Drug Development and Drug Interactions: Table of Substrates, Inhibitors and Inducers"
  (strong clinical inhibitors and inducers of CYP3A);
- Hwang JP et al., Hepatitis B Virus Screening and Management for Patients With Cancer Prior to
  Therapy: ASCO Provisional Clinical Opinion Update, J Clin Oncol 2020;38:3698-3715, with the
  AASLD 2018 (Terrault NA et al., Hepatology 2018;67:1560-99) and EASL 2017 HBV guidance;
- CDISC SDTM Implementation Guide, ISO 8601 dates (a partial date keeps only what is known);
- systemic corticosteroids near the PD-1 antibody: the exclusion PD-1 antibody trials share
  (above 10 mg/day prednisone equivalent within 14 days of the first dose), with the
  equivalent doses of Liu D et al., Allergy Asthma Clin Immunol 2013;9:30, table 1.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

# Interactions --------------------------------------------------------------------------------

STRONG_INHIBITOR = "strong_cyp3a4_inhibitor"
STRONG_INDUCER = "strong_cyp3a4_inducer"
HBV_NO_ANTIVIRAL = "hbv_no_antiviral"
HBV_ANTIVIRAL_STOPPED = "hbv_antiviral_stopped"
CORTICOSTEROID = "corticosteroid_over_10_mg"


@dataclass(frozen=True)
class Drug:
    name: str  # the generic (INN) name
    atc: tuple[str, ...] = ()  # WHO ATC level-5 codes of the systemic forms
    other_names: tuple[str, ...] = ()  # US/INN variants and brand names


# Stivarga label 7.2 names clarithromycin, grapefruit juice, itraconazole, ketoconazole,
# posaconazole, telithromycin and voriconazole; the rest are the FDA table's strong clinical
# CYP3A inhibitors (ritonavir and its boosted combinations, cobicistat, ...).
STRONG_CYP3A4_INHIBITORS = (
    Drug("clarithromycin", ("J01FA09",), ("biaxin", "klacid", "klaricid")),
    Drug("grapefruit juice", (), ("grapefruit",)),
    Drug("itraconazole", ("J02AC02",), ("sporanox",)),
    Drug("ketoconazole", ("J02AB02",), ("nizoral",)),
    Drug("posaconazole", ("J02AC04",), ("noxafil",)),
    Drug("telithromycin", ("J01FA15",), ("ketek",)),
    Drug("voriconazole", ("J02AC03",), ("vfend",)),
    Drug("ritonavir", ("J05AE03",), ("norvir", "kaletra", "paxlovid", "viekira")),
    Drug("cobicistat", (), ("tybost", "stribild", "genvoya", "prezcobix", "evotaz", "symtuza")),
    Drug("boceprevir", (), ("victrelis",)),
    Drug("telaprevir", (), ("incivek", "incivo")),
    Drug("conivaptan", (), ("vaprisol",)),
    Drug("indinavir", ("J05AE02",), ("crixivan",)),
    Drug("lopinavir", (), ()),
    Drug("nelfinavir", ("J05AE04",), ("viracept",)),
    Drug("saquinavir", ("J05AE01",), ("invirase",)),
    Drug("tipranavir", (), ("aptivus",)),
    Drug("troleandomycin", ("J01FA08",), ()),
    Drug("idelalisib", (), ("zydelig",)),
    Drug("nefazodone", ("N06AX06",), ("serzone",)),
)

# Stivarga label 7.1 names rifampin, phenytoin, carbamazepine, phenobarbital and St. John's
# Wort; the FDA table adds apalutamide, enzalutamide and mitotane as strong CYP3A inducers.
# Fosphenytoin and primidone are given for (and become) phenytoin and phenobarbital.
STRONG_CYP3A4_INDUCERS = (
    Drug("rifampicin", ("J04AB02",), ("rifampin", "rifadin", "rimactane")),
    Drug("phenytoin", ("N03AB02",), ("dilantin", "epanutin")),
    Drug("fosphenytoin", ("N03AB05",), ("cerebyx",)),
    Drug("carbamazepine", ("N03AF01",), ("tegretol",)),
    Drug("phenobarbital", ("N03AA02",), ("phenobarbitone", "luminal")),
    Drug("primidone", ("N03AA03",), ("mysoline",)),
    Drug("st john s wort", ("N06AX25",), ("st johns wort", "hypericum", "hypericum perforatum")),
    Drug("apalutamide", ("L02BB05",), ("erleada",)),
    Drug("enzalutamide", ("L02BB04",), ("xtandi",)),
    Drug("mitotane", ("L01XX23",), ("lysodren",)),
)

# The nucleos(t)ide analogues of HBV prophylaxis and treatment (ASCO 2020; AASLD 2018).
HBV_ANTIVIRALS = (
    Drug("entecavir", ("J05AF10",), ("baraclude",)),
    Drug("tenofovir disoproxil", ("J05AF07",), ("viread", "tdf")),
    Drug("tenofovir alafenamide", ("J05AF13",), ("vemlidy", "taf")),
    Drug("tenofovir", (), ()),
    Drug("lamivudine", ("J05AF05",), ("epivir", "zeffix", "heptodin")),
    Drug("adefovir", ("J05AF08",), ("hepsera",)),
    Drug("telbivudine", ("J05AF11",), ("tyzeka", "sebivo")),
)

# Milligrams equivalent to 5 mg of prednisone (Liu et al. 2013, table 1).
CORTICOSTEROIDS_MG_PER_5_MG_PREDNISONE = {
    Drug("prednisone", ("H02AB07",)): 5.0,
    Drug("prednisolone", ("H02AB06",)): 5.0,
    Drug("methylprednisolone", ("H02AB04",), ("medrol", "solu medrol")): 4.0,
    Drug("triamcinolone", ("H02AB08",)): 4.0,
    Drug("hydrocortisone", ("H02AB09",), ("solu cortef",)): 20.0,
    Drug("cortisone", ("H02AB10",)): 25.0,
    Drug("dexamethasone", ("H02AB02",), ("decadron",)): 0.75,
    Drug("betamethasone", ("H02AB01",), ("celestone",)): 0.6,
}
SYSTEMIC_ROUTES = frozenset({"oral", "intravenous", "intramuscular", "subcutaneous"})
PREDNISONE_LIMIT_MG_DAY = 10.0
STEROID_WINDOW_DAYS = 14  # before the first dose of the PD-1 antibody
# Doses a day, from the frequency as written (standard prescription abbreviations).
FREQUENCIES = {
    1: ("once daily", "daily", "qd", "od", "once a day", "1x daily", "every 24 hours", "q24h"),
    2: ("twice daily", "bid", "bd", "twice a day", "2x daily", "every 12 hours", "q12h"),
    3: ("three times daily", "tid", "tds", "three times a day", "3x daily", "every 8 hours", "q8h"),
    4: ("four times daily", "qid", "qds", "four times a day", "4x daily", "every 6 hours", "q6h"),
}
MG_PER_UNIT = {"mg": 1.0, "g": 1000.0, "ug": 0.001}

# Salt and ester words a name may carry ("clarithromycin lactobionate", "phenytoin sodium").
SALTS = frozenset(
    [
        "hydrochloride",
        "hcl",
        "sodium",
        "potassium",
        "calcium",
        "magnesium",
        "mesylate",
        "mesilate",
        "maleate",
        "sulfate",
        "sulphate",
        "fumarate",
        "succinate",
        "tartrate",
        "citrate",
        "phosphate",
        "acetate",
        "lactobionate",
        "stearate",
        "ethylsuccinate",
        "besylate",
        "dipivoxil",
        "disoproxil",
        "alafenamide",
        "hydrobromide",
        "bromide",
        "chloride",
        "monohydrate",
        "dihydrate",
    ]
)
# Routes by which a drug does not reach the blood in amounts that matter (a ketoconazole
# shampoo or cream is not the oral ketoconazole of the label).
LOCAL_ROUTES = frozenset({"topical", "ophthalmic", "otic", "vaginal", "nasal"})

ATC_PATTERN = re.compile(r"^[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?$")


def valid_atc(code: str) -> bool:
    """A WHO ATC code at any of its five levels: A, A10, A10B, A10BA, A10BA02."""
    return bool(ATC_PATTERN.match(code or ""))


def normalized(name: str) -> str:
    """Lower case, accents and punctuation off, words separated by single spaces."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _names(drug: Drug) -> list[str]:
    return [normalized(n) for n in (drug.name, *drug.other_names)]


def _mentions(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {text} "


def find(drugs: tuple[Drug, ...], name: str, atc: str = "") -> Drug | None:
    """The drug of `drugs` a medication is: by its ATC code (level 5), else by a generic or
    brand name among the words of the name as entered (salts and doses do not matter:
    "Clarithromycin 500 mg tablets", "KLACID", "lopinavir/ritonavir" all match)."""
    code = (atc or "").strip().upper()
    for drug in drugs:
        if code and code in drug.atc:
            return drug
    text = normalized(name)
    for drug in drugs:
        if any(_mentions(text, n) for n in _names(drug)):
            return drug
    stripped = " ".join(w for w in text.split() if w not in SALTS)
    for drug in drugs:
        if any(_mentions(stripped, n) for n in _names(drug)):
            return drug
    return None


def cyp3a4_interaction(name: str, atc: str = "", route: str = "") -> tuple[str, Drug] | None:
    """(STRONG_INHIBITOR or STRONG_INDUCER, the drug) for a medication regorafenib should not
    be given with, or None. Stivarga label 7.1: strong CYP3A4 inducers decrease regorafenib
    exposure and increase that of its active metabolite M-5 (avoid them); 7.2: strong CYP3A4
    inhibitors increase regorafenib exposure and decrease M-2 and M-5 (avoid them). A drug
    given by a local route (a cream, eye drops) is not counted."""
    if (route or "").lower() in LOCAL_ROUTES:
        return None
    if drug := find(STRONG_CYP3A4_INHIBITORS, name, atc):
        return STRONG_INHIBITOR, drug
    if drug := find(STRONG_CYP3A4_INDUCERS, name, atc):
        return STRONG_INDUCER, drug
    return None


def doses_a_day(frequency: str) -> int | None:
    text = normalized(frequency)
    for count, phrases in FREQUENCIES.items():
        if any(text == normalized(p) for p in phrases):
            return count
    return None


def prednisone_mg_day(
    name: str, atc: str = "", *, dose: float | None, unit: str, frequency: str, route: str
) -> float | None:
    """The daily dose of a systemic corticosteroid in mg of prednisone (Liu et al. 2013,
    table 1), or None: not a corticosteroid, not systemic, or a dose or frequency that cannot be
    read (a frequency as "once daily", "BID", "q8h" ...)."""
    if (route or "").lower() not in SYSTEMIC_ROUTES or dose is None or unit not in MG_PER_UNIT:
        return None
    drug = find(tuple(CORTICOSTEROIDS_MG_PER_5_MG_PREDNISONE), name, atc)
    per_day = doses_a_day(frequency)
    if drug is None or per_day is None:
        return None
    mg_day = float(dose) * MG_PER_UNIT[unit] * per_day
    return mg_day * 5.0 / CORTICOSTEROIDS_MG_PER_5_MG_PREDNISONE[drug]


def hbv_antiviral(name: str, atc: str = "") -> Drug | None:
    """The nucleos(t)ide analogue a medication is, if it is one (ASCO 2020; AASLD 2018)."""
    return find(HBV_ANTIVIRALS, name, atc)


HBV_TERMS = ("hepatitis b", "hbv", "hbsag", "hep b", "chronic hepatitis b", "hepatitis b virus")


def is_hbv(condition: str) -> bool:
    """A medical history entry of hepatitis B infection (chronic or past, HBsAg positive)."""
    text = normalized(condition)
    return any(_mentions(text, term) for term in HBV_TERMS)


# Warnings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Medication:
    """A concomitant medication as the rules read it."""

    key: object  # whatever identifies it to the caller (the record's id)
    name: str
    start: date
    stop: date | None = None  # None while ongoing
    atc: str = ""
    route: str = ""
    dose: float | None = None
    unit: str = ""
    frequency: str = ""

    def taken_on_or_after(self, day: date) -> bool:
        return self.stop is None or self.stop >= day


@dataclass(frozen=True)
class Warning:
    code: str
    message: str
    source: str
    medication: object = None  # the Medication.key it is about, None for the patient


LABEL = "Stivarga (regorafenib) prescribing information, section 7"
HBV_SOURCE = "ASCO 2020 HBV provisional clinical opinion (Hwang et al.); AASLD 2018; EASL 2017"
STEROID_SOURCE = (
    "PD-1 antibody trials' exclusion (> 10 mg/day prednisone equivalent within 14 days); "
    "equivalents of Liu et al. 2013"
)


def warnings(
    medications: list[Medication], *, hbv: bool, treatment_start: date | None
) -> list[Warning]:
    """The warnings of one patient's medications:

    - a strong CYP3A4 inhibitor or inducer taken during regorafenib treatment (from
      `treatment_start`, day 0 of the randomized treatment), or ongoing while treatment has not
      started: Stivarga label section 7 says to avoid both;
    - hepatitis B (`hbv`, from the medical history): no nucleos(t)ide analogue ongoing, or one
      stopped during treatment while no other goes on. ASCO 2020 (Hwang et al.): patients with
      chronic HBV receiving systemic anticancer therapy, immunotherapy included, start antiviral
      therapy before or with it and continue it during and at least 12 months after; AASLD 2018
      and EASL 2017 recommend prophylaxis for HBsAg-positive patients on immunosuppressive or
      cytotoxic therapy. Stopping it risks HBV reactivation and hepatitis flare;
    - a systemic corticosteroid above 10 mg/day prednisone equivalent within 14 days before
      treatment starts or during it (ongoing, before it starts): PD-1 antibody trials exclude
      it, as it may blunt the immune response; a practice, not a label rule.
    """
    found: list[Warning] = []
    for medication in medications:
        prednisone = prednisone_mg_day(
            medication.name,
            medication.atc,
            dose=medication.dose,
            unit=medication.unit,
            frequency=medication.frequency,
            route=medication.route,
        )
        if prednisone is None or prednisone <= PREDNISONE_LIMIT_MG_DAY:
            continue
        near = (
            medication.stop is None
            if treatment_start is None
            else medication.taken_on_or_after(treatment_start - timedelta(STEROID_WINDOW_DAYS))
        )
        if near:
            found.append(
                Warning(
                    CORTICOSTEROID,
                    f"{medication.name}: {round(prednisone, 1):g} mg/day prednisone equivalent, "
                    f"above {PREDNISONE_LIMIT_MG_DAY:g} mg/day near the PD-1 antibody: confirm it "
                    "with the investigator.",
                    STEROID_SOURCE,
                    medication.key,
                )
            )
    for medication in medications:
        interaction = cyp3a4_interaction(medication.name, medication.atc, medication.route)
        if interaction is None:
            continue
        relevant = (
            medication.stop is None
            if treatment_start is None
            else medication.taken_on_or_after(treatment_start)
        )
        if not relevant:
            continue
        kind, drug = interaction
        what = "inhibitor" if kind == STRONG_INHIBITOR else "inducer"
        effect = (
            "increases regorafenib exposure"
            if kind == STRONG_INHIBITOR
            else "decreases regorafenib exposure"
        )
        found.append(
            Warning(
                kind,
                f"{medication.name}: a strong CYP3A4 {what} ({drug.name}) {effect}; "
                "avoid it with regorafenib.",
                LABEL,
                medication.key,
            )
        )
    if hbv:
        antivirals = [m for m in medications if hbv_antiviral(m.name, m.atc)]
        ongoing = [m for m in antivirals if m.stop is None]
        if not ongoing:
            found.append(
                Warning(
                    HBV_NO_ANTIVIRAL,
                    "Hepatitis B in the medical history and no ongoing nucleos(t)ide analogue "
                    "(entecavir, tenofovir): start it before immunotherapy and continue it "
                    "throughout.",
                    HBV_SOURCE,
                )
            )
            if treatment_start is not None:
                for medication in antivirals:
                    if medication.stop >= treatment_start:
                        found.append(
                            Warning(
                                HBV_ANTIVIRAL_STOPPED,
                                f"{medication.name} (HBV antiviral) stopped during treatment: "
                                "risk of HBV reactivation; continue it during and at least "
                                "12 months after immunotherapy.",
                                HBV_SOURCE,
                                medication.key,
                            )
                        )
    return found


# Partial dates of a medical history ---------------------------------------------------------

PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class PartialDateError(ValueError):
    pass


def date_range(text: str) -> tuple[date, date]:
    """The first and last day an ISO 8601 (partial) date may mean, as CDISC SDTM keeps them:
    "2019" is 2019-01-01..2019-12-31, "2019-03" the month of March, "2019-03-14" the day."""
    found = PARTIAL_DATE.match((text or "").strip())
    if not found:
        raise PartialDateError("A date as YYYY, YYYY-MM or YYYY-MM-DD.")
    year, month, day = (int(g) if g else None for g in found.groups())
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        first = date(year, month, day or 1)
        if day is not None:
            return first, first
        following = date(year + month // 12, month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    except ValueError as error:
        raise PartialDateError("Not a date on the calendar.") from error


def partial_date_problems(text: str, *, born: date | None, today: date) -> list[str]:
    """Why a (partial) date cannot be the start of a condition: not a date, after today, or
    wholly before the patient's birth."""
    try:
        first, last = date_range(text)
    except PartialDateError as error:
        return [str(error)]
    problems = []
    if first > today:
        problems.append("In the future.")
    if born is not None and last < born:
        problems.append("Before the patient's birth.")
    return problems


def medication_problems(
    *,
    start: date,
    stop: date | None,
    ongoing: bool,
    born: date | None,
    today: date,
    atc: str = "",
) -> dict[str, list[str]]:
    """Field -> why a medication's dates (and ATC code) cannot be: the stop date is given
    exactly when the medication is not ongoing, not before the start; no date after today nor
    before birth."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if ongoing and stop is not None:
        add("stop_date", "An ongoing medication has no stop date.")
    if not ongoing and stop is None:
        add("stop_date", "Give the stop date, or mark the medication ongoing.")
    for field, day in (("start_date", start), ("stop_date", stop)):
        if day is None:
            continue
        if day > today:
            add(field, "In the future.")
        if born is not None and day < born:
            add(field, "Before the patient's birth.")
    if start is not None and stop is not None and stop < start:
        add("stop_date", "Before the start date.")
    if atc and not valid_atc(atc):
        add("atc_code", "A WHO ATC code, e.g. J01FA09 (or a shorter level: J01FA, J01, J).")
    return errors
