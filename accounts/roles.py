"""The trial's roles. Each role is a Django group; its permissions are granted by migrations
(accounts/migrations and each app's own), so a new machine gets them with `migrate`."""

COORDINATOR = "coordinator"
INVESTIGATOR = "investigator"
RADIOLOGIST = "radiologist"
ADJUDICATOR = "adjudicator"
STATISTICIAN = "statistician"
DATA_MANAGER = "data_manager"
MONITOR = "monitor"

ROLES = {
    COORDINATOR: "Site coordinator",
    INVESTIGATOR: "Investigator",
    RADIOLOGIST: "Blinded radiologist",
    ADJUDICATOR: "Blinded adjudicator",
    STATISTICIAN: "Statistician",
    DATA_MANAGER: "Data manager (administrator)",
    MONITOR: "Monitor (clinical research associate)",
}

# Roles that must never reach a patient's arm or clinical data.
BLINDED_ROLES = (RADIOLOGIST, ADJUDICATOR)


def grant(apps, role_permissions: dict[str, list[str]]) -> None:
    """Give each role ("app_label.codename") permissions; used by data migrations."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # create_permissions skips None
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def roles_of(user) -> list[str]:
    if not user.is_authenticated:
        return []
    from accounts.backends import group_names  # reads the auth models: not at import time

    return [name for name in group_names(user) if name in ROLES]
