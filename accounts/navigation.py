"""What each role sees in the navigation bar: an entry shows only to users who may open it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # None: every logged-in user


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
    NavItem("Deviations", "datamanagement:deviations", "datamanagement.view_protocoldeviation"),
    NavItem("Reading worklist", "assessments:worklist", "assessments.read_images"),
    NavItem("Adjudication", "assessments:adjudication_list", "assessments.adjudicate"),
    NavItem("Agreement", "assessments:agreement", "assessments.view_agreement"),
    NavItem("API docs", "api-docs", None),
)
