"""Randomization constants (NCT05962450: 1:1, RPI vs RP, 84 patients, permuted blocks)."""

RPI = "RPI"
RP = "RP"
ARMS = {RPI: "Regorafenib + PD-1 + iNKT cells", RP: "Regorafenib + PD-1"}
ARM_CODES = ("A", "B")  # for a masked statistician; the administrator maps them to arms

TARGET_PATIENTS = 84
DEFAULT_BLOCK_SIZES = (2, 4, 6)
MAX_BLOCK_SIZE = 20
MAX_SEQUENCE_LENGTH = 10_000

# Optional stratification factors: name -> (label, the strata it takes)
STRATIFIERS = {
    "child_pugh_class": ("Child-Pugh class", ("A", "B")),
}
