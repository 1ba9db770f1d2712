"""What each role sees in the navigation bar: an entry shows only to users who may open it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # None: every logged-in user
    menu: str | None = None  # entries of one menu open from one entry of the bar


DATA = "Data"  # queries, verification, deviations, the lock: cleaning the data


NAV_ITEMS = (
    NavItem("Dashboard", "dashboard", None),
    NavItem("Screening log", "enrollment:screening_list", "enrollment.view_screening"),
    NavItem("New screening", "enrollment:screening_create", "enrollment.add_screening"),
    NavItem("Patients", "enrollment:patient_list", "enrollment.view_patient"),
    NavItem("Allocations", "randomization:allocation_list", "randomization.view_allocation"),
    NavItem("Sequence", "randomization:sequence", "randomization.view_sequence"),
    NavItem("Reports", "randomization:reports", "randomization.view_allocation"),
    NavItem("Infusions", "dosing:calendar", "dosing.view_infusion"),
    NavItem("Safety", "safety:tables", "safety.view_safety_tables"),
    NavItem("Endpoints", "outcomes:runs", "outcomes.view_endpointrun"),
    NavItem("CONSORT", "outcomes:consort", "randomization.view_allocation"),
    NavItem("Reading worklist", "assessments:worklist", "assessments.read_images"),
    NavItem("Adjudication", "assessments:adjudication_list", "assessments.adjudicate"),
    NavItem("Agreement", "assessments:agreement", "assessments.view_agreement"),
    NavItem("Casebook matrix", "datamanagement:matrix", "datamanagement.view_dataquery", DATA),
    NavItem("Data queries", "datamanagement:queries", "datamanagement.view_dataquery", DATA),
    NavItem(
        "Source-data verification",
        "datamanagement:sdv",
        "datamanagement.view_sourceverification",
        DATA,
    ),
    NavItem(
        "Protocol deviations",
        "datamanagement:deviations",
        "datamanagement.view_protocoldeviation",
        DATA,
    ),
    NavItem("Database lock", "datamanagement:locks", "datamanagement.view_datalock", DATA),
    NavItem("API docs", "api-docs", None),
)
