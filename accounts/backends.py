"""Permissions and roles read once per request, in one query (issue 16: every page asked three:
the user's own permissions, the groups' permissions, the group names).

`Permissions` sits before Django's ModelBackend in AUTHENTICATION_BACKENDS and authenticates
nobody: it answers permission checks from one UNION query and fills the caches ModelBackend
keeps on the user object, so ModelBackend (which logs users in and names their sessions)
answers from them without a query of its own. The user object lives as long as its request,
so a role changed in the admin counts from the next request on, as with ModelBackend."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, Value


def load(user) -> None:
    """The user's own and groups' permissions and group names, in one query, kept on the user
    as ModelBackend keeps them (`_user_perm_cache`, `_group_perm_cache`, `_perm_cache`)."""
    if hasattr(user, "_group_names"):
        return
    own = (
        Permission.objects.filter(user=user)
        .annotate(role=Value(None, output_field=CharField()))
        .order_by()
        .values_list("role", "content_type__app_label", "codename")
    )
    through_groups = (
        Group.objects.filter(user=user)
        .order_by()
        .values_list("name", "permissions__content_type__app_label", "permissions__codename")
    )
    user_perms, group_perms, groups = set(), set(), []
    for group, app_label, codename in own.union(through_groups, all=True):
        if group is not None and group not in groups:
            groups.append(group)
        if codename is None:  # a group without permissions
            continue
        (user_perms if group is None else group_perms).add(f"{app_label}.{codename}")
    if not user.is_superuser:  # ModelBackend gives a superuser every permission itself
        user._user_perm_cache = user_perms
        user._group_perm_cache = group_perms
        user._perm_cache = user_perms | group_perms
    user._group_names = groups


def group_names(user) -> list[str]:
    """The names of the user's groups (the roles), read with the permissions."""
    load(user)
    return list(user._group_names)


class Permissions(ModelBackend):
    """ModelBackend's permission checks from one query; it logs nobody in."""

    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if user_obj.is_active and not user_obj.is_anonymous and obj is None:
            load(user_obj)
        return super().get_all_permissions(user_obj, obj)

    def get_user_permissions(self, user_obj, obj=None):
        if user_obj.is_active and not user_obj.is_anonymous and obj is None:
            load(user_obj)
        return super().get_user_permissions(user_obj, obj)

    def get_group_permissions(self, user_obj, obj=None):
        if user_obj.is_active and not user_obj.is_anonymous and obj is None:
            load(user_obj)
        return super().get_group_permissions(user_obj, obj)
