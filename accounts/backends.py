"""Permissions and roles read once per request, in one query (issue 16: every page asked three:
the user's own permissions, the groups' permissions, the group names).

`Permissions` sits before Django's ModelBackend in AUTHENTICATION_BACKENDS and authenticates
nobody: it answers permission checks from one query and fills the caches ModelBackend
keeps on the user object, so ModelBackend (which logs users in and names their sessions)
answers from them without a query of its own. The user object lives as long as its request,
so a role changed in the admin counts from the next request on, as with ModelBackend."""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


@cache
def _sql(alias: str) -> str:
    """The query of `load`, written out: as a queryset (a union of two querysets of values
    through the permission relations) Django spent about 2 ms of CPU compiling it, more than
    the rest of an empty page (issue 16). The tables and columns are the models' own."""
    q = connections[alias].ops.quote_name
    user_model = get_user_model()
    own = user_model.user_permissions.through._meta
    member = user_model.groups.through._meta
    granted = Group.permissions.through._meta
    user = user_model._meta.model_name

    def table(meta):
        return q(meta.db_table)

    def col(meta, field):
        return q(meta.get_field(field).column)

    perm, ctype, group = Permission._meta, ContentType._meta, Group._meta
    return f"""
        SELECT NULL, ct.{col(ctype, "app_label")}, p.{col(perm, "codename")}
        FROM {table(own)} up
        JOIN {table(perm)} p ON p.{col(perm, "id")} = up.{col(own, "permission")}
        JOIN {table(ctype)} ct ON ct.{col(ctype, "id")} = p.{col(perm, "content_type")}
        WHERE up.{col(own, user)} = %s
        UNION ALL
        SELECT g.{col(group, "name")}, ct.{col(ctype, "app_label")}, p.{col(perm, "codename")}
        FROM {table(member)} ug
        JOIN {table(group)} g ON g.{col(group, "id")} = ug.{col(member, "group")}
        LEFT JOIN {table(granted)} gp ON gp.{col(granted, "group")} = g.{col(group, "id")}
        LEFT JOIN {table(perm)} p ON p.{col(perm, "id")} = gp.{col(granted, "permission")}
        LEFT JOIN {table(ctype)} ct ON ct.{col(ctype, "id")} = p.{col(perm, "content_type")}
        WHERE ug.{col(member, user)} = %s
    """


def load(user) -> None:
    """The user's own and groups' permissions and group names, in one query, kept on the user
    as ModelBackend keeps them (`_user_perm_cache`, `_group_perm_cache`, `_perm_cache`)."""
    if hasattr(user, "_group_names"):
        return
    alias = router.db_for_read(Permission)
    with connections[alias].cursor() as cursor:
        cursor.execute(_sql(alias), [user.pk, user.pk])
        rows = cursor.fetchall()
    user_perms, group_perms, groups = set(), set(), []
    for group, app_label, codename in rows:
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
