from rest_framework.permissions import BasePermission, DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, reading included: a role without `view_<model>` gets 403."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


def has_perms(*perms: str) -> type[BasePermission]:
    """A DRF permission class requiring every one of the named Django permissions."""

    class HasPerms(BasePermission):
        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.has_perms(perms))

    HasPerms.__name__ = "HasPerms_" + "_".join(p.replace(".", "_") for p in perms)
    return HasPerms
