"""Roles: admin from config, leader by leading a unit, else worker."""

from __future__ import annotations

import pytest

from models.roles import Role, allowed, role_of


@pytest.mark.parametrize(
    ("key", "leads", "admins", "expected"),
    [
        ("a", False, frozenset(), Role.WORKER),
        ("a", True, frozenset(), Role.LEADER),
        ("a", False, frozenset({"a"}), Role.ADMIN),
        ("a", True, frozenset({"b"}), Role.LEADER),
    ],
)
def test_role_of(key: str, leads: bool, admins: frozenset[str], expected: Role) -> None:
    assert role_of(key, leads, admins) is expected


def test_allowed_is_a_ladder() -> None:
    assert allowed(Role.ADMIN, Role.LEADER)
    assert allowed(Role.LEADER, Role.WORKER)
    assert not allowed(Role.WORKER, Role.LEADER)
    assert not allowed(Role.LEADER, Role.ADMIN)
