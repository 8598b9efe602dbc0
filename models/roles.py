"""Roles. A worker answers their own duties; a leader also sees their units' subtree; an admin
(named in config) may do everything. Pure: decided from plain facts."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    WORKER = 1
    LEADER = 2
    ADMIN = 3


def role_of(person_key: str, leads_units: bool, admin_keys: frozenset[str]) -> Role:
    if person_key in admin_keys:
        return Role.ADMIN
    if leads_units:
        return Role.LEADER
    return Role.WORKER


def allowed(role: Role, required: Role) -> bool:
    return role >= required
