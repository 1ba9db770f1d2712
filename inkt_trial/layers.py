"""The one direction of the dependencies between the project's apps, lowest first: an app may
import its own modules and those of the layers below it, never one above it nor another app in
its own layer, and never another app's pages or API (`views`, `api`, `urls`): their shared bases
live in inkt_trial/views.py and inkt_trial/api.py. An app above gives what a lower one needs
through a registration in its AppConfig.ready (enrollment.evidence, randomization.prerequisites).

tests/test_dependencies.py reads every import with `ast` and holds the code to this order."""

LAYERS = (
    ("accounts",),
    ("inkt_trial",),
    ("enrollment",),
    ("randomization",),
    ("dosing",),  # study treatment: the imaging and safety apps read the doses
    ("assessments", "safety"),
    ("outcomes",),
    ("datamanagement",),  # data queries: on any record of the apps below
)

# Modules that wire every app together and that no app imports: the root URLconf.
COMPOSITION_ROOTS = ("inkt_trial.urls",)

# The project package: its views and api modules are the shared bases every app builds on.
SHARED = "inkt_trial"

# Another app's modules that no app may import, whatever its layer.
PAGES_AND_API = ("views", "api", "urls")


def layer_of(app: str) -> int | None:
    return next((i for i, apps in enumerate(LAYERS) if app in apps), None)


def refusal(importer: str, imported: str) -> str | None:
    """Why module `importer` (dotted) may not import `imported`, or None if it may."""
    source, target = importer.split(".")[0], imported.split(".")[0]
    below, above = layer_of(source), layer_of(target)
    if below is None or above is None or source == target:
        return None
    if importer in COMPOSITION_ROOTS or importer.startswith(
        tuple(f"{r}." for r in COMPOSITION_ROOTS)
    ):
        return None
    parts = imported.split(".")
    if len(parts) > 1 and parts[1] in PAGES_AND_API and target != SHARED:
        return f"{importer} imports {imported}: another app's pages or API"
    if above > below:
        return f"{importer} imports {imported}: {target} is above {source}"
    if above == below:
        return f"{importer} imports {imported}: {target} and {source} are peers"
    return None
