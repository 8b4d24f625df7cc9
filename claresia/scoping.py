"""Tenant scoping: the one place that decides which tenants a user may see or change.

Every queryset that tenant staff can reach (admin, Command Center, API) goes through
`scope_to_user`; admin classes get it by mixing in `TenantScopedAdminMixin`. Only an active staff
user sees any tenant, as the admin asks of anyone it lets in; superusers see every tenant; other
staff see the tenants they hold a membership in, and change only those where their role is admin.
"""

import dataclasses
from functools import reduce, wraps

from django.contrib import messages
from django.contrib.admin import ActionLocation, RelatedFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Model, QuerySet
from django.utils.translation import ngettext

from claresia.admin_changelist import BoundedChangeListMixin
from claresia.models import Tenant, TenantMembership


def is_active_staff(user: AbstractBaseUser) -> bool:
    """What the admin asks of every user it lets in; the Command Center and the record page ask
    it too, on every request, so that removing the flag ends a live session's rights."""
    return user.is_authenticated and user.is_active and user.is_staff


def tenants_visible_to(user: AbstractBaseUser) -> QuerySet[Tenant]:
    if not is_active_staff(user):
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    return Tenant.objects.filter(memberships__user=user)


def tenants_editable_by(user: AbstractBaseUser) -> QuerySet[Tenant]:
    if not is_active_staff(user):
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    # One filter() call, so that user and role are matched on the same membership row.
    return Tenant.objects.filter(
        memberships__user=user, memberships__role=TenantMembership.Role.ADMIN
    )


def scope_to_user(
    queryset: QuerySet, user: AbstractBaseUser, *, tenant_path: str = "tenant"
) -> QuerySet:
    """Filter `queryset` to rows of tenants `user` may see; `tenant_path` leads to the Tenant."""
    if is_active_staff(user) and user.is_superuser:
        return queryset
    lookup = f"{tenant_path}__in" if tenant_path else "pk__in"
    return queryset.filter(**{lookup: tenants_visible_to(user).values("pk")})


def tenant_of(obj: Model, tenant_path: str) -> Tenant:
    if not tenant_path:
        return obj
    return reduce(getattr, tenant_path.split("__"), obj)


class TenantListFilter(RelatedFieldListFilter):
    """A changelist filter on a tenant that offers the tenants the user may see, not all."""

    def field_choices(self, field, request, model_admin):
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": tenants_visible_to(request.user).values("pk")},
            ordering=self.field_admin_ordering(field, request, model_admin),
        )


class TenantScopedAdminMixin(BoundedChangeListMixin):
    """ModelAdmin mixin: querysets, tenant choices, list filters, actions and permissions follow
    tenant membership."""

    tenant_path = "tenant"

    def get_queryset(self, request):
        return scope_to_user(
            super().get_queryset(request), request.user, tenant_path=self.tenant_path
        )

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        return {
            name: dataclasses.replace(action, func=self._on_editable_rows(action.func))
            for name, action in actions.items()
        }

    def _on_editable_rows(self, func):
        """An action that asks for more than the view permission changes something or queues
        work. Its permission check asks whether the user may change *some* tenant; this runs it
        on the selected rows of the tenants they may change, never on a viewer's."""
        if set(getattr(func, "allowed_permissions", ())) <= {"view"}:
            return func
        lookup = f"{self.tenant_path}__in" if self.tenant_path else "pk__in"

        @wraps(func)
        def on_editable_rows(modeladmin, request, queryset):
            if is_active_staff(request.user) and request.user.is_superuser:
                return func(modeladmin, request, queryset)
            editable = queryset.filter(**{lookup: tenants_editable_by(request.user).values("pk")})
            skipped = queryset.count() - editable.count()
            if skipped and not editable.exists():
                self.message_user(
                    request,
                    "Your role on the selected rows' tenant is read only: nothing was done.",
                    messages.ERROR,
                )
                return None
            if skipped:
                self.message_user(
                    request,
                    ngettext(
                        "Skipped %d row of a tenant where your role is read only.",
                        "Skipped %d rows of tenants where your role is read only.",
                        skipped,
                    )
                    % skipped,
                    messages.WARNING,
                )
            return func(modeladmin, request, editable)

        return on_editable_rows

    def get_list_filter(self, request):
        return [self._scoped_list_filter(item) for item in super().get_list_filter(request)]

    def _scoped_list_filter(self, item):
        """Django's filter on a relation lists every row of the related model, other tenants'
        included: a tenant filter lists the user's tenants, any other relation the values its
        scoped rows hold."""
        if isinstance(item, list | tuple) and item[1] is RelatedFieldListFilter:
            item = item[0]
        if not isinstance(item, str):
            return item  # a SimpleListFilter, or a filter class chosen on purpose
        field = get_fields_from_path(self.model, item)[-1]
        if not field.is_relation:
            return item
        if field.related_model is Tenant:
            return (item, TenantListFilter)
        return (item, RelatedOnlyFieldListFilter)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Tenant:
            kwargs["queryset"] = tenants_editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _is_member(self, request) -> bool:
        return request.user.is_superuser or tenants_visible_to(request.user).exists()

    def _can_edit(self, request, obj) -> bool:
        editable = tenants_editable_by(request.user)
        if obj is None:
            return editable.exists()
        return editable.filter(pk=tenant_of(obj, self.tenant_path).pk).exists()

    def has_module_permission(self, request):
        return request.user.is_staff and self._is_member(request)

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_staff and self._is_member(request)):
            return False
        if obj is None or request.user.is_superuser:
            return True
        return (
            tenants_visible_to(request.user).filter(pk=tenant_of(obj, self.tenant_path).pk).exists()
        )

    def has_add_permission(self, request, *args):
        return request.user.is_staff and self._can_edit(request, None)

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff and self._can_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_staff and self._can_edit(request, obj)
