"""parse_policies: the [escalation] table, its defaults and its error messages; policy JSON."""

import json
from dataclasses import replace
from datetime import time, timedelta
from typing import Any

import pytest

from models.policies import Level, Policy, Target, parse_policies, policy_from_json, policy_to_json
from models.quiet import QuietHours

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)

EXAMPLE: dict[str, Any] = {
    "default_policy": "standard",
    "group_window": "5m",
    "quiet_hours": "22:00-06:00",
    "policies": {
        "standard": {
            "reminders": ["-30m", "0m"],
            "levels": [
                {"after": "30m", "notify": "next"},
                {"after": "2h", "notify": "next"},
                {"after": "4h", "notify": "post:plant manager"},
                {"after": "6h", "notify": "people:m.keller,h.braun"},
            ],
            "repeat_every": "2h",
            "repeat_max": 3,
            "ack_timeout": "2h",
        },
        "fast": {"levels": [{"after": "0m", "notify": "next"}], "ack_timeout": "15m"},
    },
}


def with_standard(**changes: object) -> dict[str, object]:
    standard = {**EXAMPLE["policies"]["standard"], **changes}
    return {"policies": {"standard": {k: v for k, v in standard.items() if v is not None}}}


def test_the_example_table():
    settings = parse_policies(EXAMPLE)
    assert settings.default_policy == "standard"
    assert settings.group_window == 5 * MIN
    assert settings.quiet_hours == QuietHours(time(22), time(6))
    assert settings.policy() == Policy(
        name="standard",
        reminders=(-30 * MIN, timedelta(0)),
        levels=(
            Level(30 * MIN, Target("next", link=0)),
            Level(2 * HOUR, Target("next", link=1)),
            Level(4 * HOUR, Target("post", post="plant manager")),
            Level(6 * HOUR, Target("people", keys=("m.keller", "h.braun"))),
        ),
        ack_timeout=2 * HOUR,
        repeat_every=2 * HOUR,
        repeat_max=3,
    )
    fast = settings.policy("fast")
    assert fast.reminders == ()
    assert fast.levels == (Level(timedelta(0), Target("next")),)
    assert fast.ack_timeout == 15 * MIN
    assert fast.repeat_every is None


def test_defaults_without_a_table():
    settings = parse_policies({})
    assert list(settings.policies) == ["standard"]
    standard = settings.policy()
    assert standard.reminders == (-30 * MIN, timedelta(0))
    assert [level.after for level in standard.levels] == [30 * MIN, 2 * HOUR, 4 * HOUR]
    assert [level.notify.link for level in standard.levels] == [0, 1, 2]
    assert standard.ack_timeout == 2 * HOUR
    assert settings.group_window == 5 * MIN
    assert settings.quiet_hours == QuietHours(time(22), time(6))


@pytest.mark.parametrize(
    ("text", "window"),
    [("0s", timedelta(0)), ("0", timedelta(0)), ("90s", 90 * timedelta(seconds=1))],
)
def test_group_window(text, window):
    assert parse_policies({"group_window": text}).group_window == window


def test_no_quiet_hours():
    assert parse_policies({"quiet_hours": ""}).quiet_hours is None


def test_reminders_are_sorted():
    policy = parse_policies(with_standard(reminders=["0m", "-1h", "-15m"])).policy()
    assert policy.reminders == (-HOUR, -15 * MIN, timedelta(0))


def test_next_levels_count_only_next_levels():
    data = with_standard(
        levels=[
            {"after": "30m", "notify": "next"},
            {"after": "1h", "notify": "post:shift supervisor"},
            {"after": "2h", "notify": "next"},
        ]
    )
    targets = [level.notify for level in parse_policies(data).policy().levels]
    assert targets == [
        Target("next", link=0),
        Target("post", post="shift supervisor"),
        Target("next", link=1),
    ]
    assert [str(t) for t in targets] == ["next", "post:shift supervisor", "next"]


def test_unknown_policy_name():
    with pytest.raises(
        ValueError, match=r"escalation policy: expected one of fast, standard, got 'slow'"
    ):
        parse_policies(EXAMPLE).policy("slow")


P = "escalation.policies.standard"
TARGETS = '"next", "post:<name>" or "people:<key>,<key>"'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            with_standard(
                levels=[
                    {"after": "30m", "notify": "next"},
                    {"after": "2h", "notify": "next"},
                    {"after": "4h", "notify": "boss"},
                ]
            ),
            f"{P}.levels[2].notify: expected {TARGETS}, got 'boss'",
        ),
        (
            with_standard(levels=[{"after": "1h", "notify": "post:"}]),
            f"{P}.levels[0].notify: expected",
        ),
        (
            with_standard(levels=[{"after": "1h", "notify": "people:a,,b"}]),
            f"{P}.levels[0].notify: expected",
        ),
        (
            with_standard(levels=[{"after": "1h", "notify": 3}]),
            f"{P}.levels[0].notify: expected {TARGETS}, got 3",
        ),
        (
            with_standard(
                levels=[{"after": "2h", "notify": "next"}, {"after": "1h", "notify": "next"}]
            ),
            f"{P}.levels[1].after: expected no earlier than levels[0].after (2h), got '1h'",
        ),
        (
            with_standard(levels=[{"after": "-5m", "notify": "next"}]),
            f"{P}.levels[0].after: expected a duration like '30m' or '1h30m', or '0m', got '-5m'",
        ),
        (
            with_standard(levels=[{"after": "1h"}]),
            f"{P}.levels[0].notify: expected {TARGETS}, got None",
        ),
        (
            with_standard(levels=[{"after": "1h", "notify": "next", "to": "x"}]),
            f"{P}.levels[0]: unknown key 'to'",
        ),
        (with_standard(levels=["next"]), f"{P}.levels[0]: expected a table like"),
        (with_standard(levels=[]), f"{P}.levels: expected at least one level"),
        (with_standard(levels="next"), f"{P}.levels: expected a list, got 'next'"),
        ({"policies": {"standard": {}}}, f"{P}.levels: expected a list, got None"),
        (with_standard(reminders="-30m"), f"{P}.reminders: expected a list"),
        (
            with_standard(reminders=["soon"]),
            f"{P}.reminders[0]: expected an offset like '-30m', '0m' or '1h', got 'soon'",
        ),
        (
            with_standard(reminders=["-30m", "45m"]),
            f"{P}.reminders: expected offsets before the first level's after (30m), got '45m'",
        ),
        (with_standard(reminders=["30m"]), f"{P}.reminders: expected offsets before"),
        (with_standard(reminders=["-30m", "-30m"]), f"{P}.reminders: expected different offsets"),
        (
            with_standard(repeat_max=None),
            f"{P}.repeat_every and repeat_max: expected both or neither",
        ),
        (
            with_standard(repeat_every=None),
            f"{P}.repeat_every and repeat_max: expected both or neither",
        ),
        (with_standard(repeat_max="3"), f"{P}.repeat_max: expected a whole number, got '3'"),
        (with_standard(repeat_max=True), f"{P}.repeat_max: expected a whole number, got True"),
        (with_standard(repeat_max=-1), f"{P}.repeat_every and repeat_max: expected"),
        (
            with_standard(repeat_every="0m"),
            f"{P}.repeat_every: expected a duration like '30m' or '1h30m', got '0m'",
        ),
        (with_standard(ack_timeout="2 hours"), f"{P}.ack_timeout: expected a duration like"),
        (with_standard(remind=["0m"]), f"{P}: unknown key 'remind' (expected reminders, levels,"),
        ({"policies": {"standard": "fast"}}, f"{P}: expected a table, got 'fast'"),
        ({"policies": "fast"}, "escalation.policies: expected a table of named policies"),
        (
            {"default_policy": "slow"},
            "escalation.default_policy: expected one of standard, got 'slow'",
        ),
        ({"group_window": "soon"}, "escalation.group_window: expected a duration like"),
        ({"group_window": "-5m"}, "escalation.group_window: expected a duration like"),
        (
            {"quiet_hours": "22-06"},
            'escalation.quiet_hours: expected "HH:MM-HH:MM" like "22:00-06:00"',
        ),
        ({"quiet_hours": "06:00-06:00"}, "escalation.quiet_hours: start and end must differ"),
        ({"quiet_hours": 22}, "escalation.quiet_hours: expected text"),
        ({"quite_hours": ""}, "escalation: unknown key 'quite_hours'"),
    ],
)
def test_errors_name_the_key_and_what_is_expected(data, message):
    with pytest.raises(ValueError) as caught:
        parse_policies(data)
    assert message in str(caught.value)


def test_the_exact_message_for_a_bad_target():
    data = with_standard(
        levels=[{"after": "30m", "notify": "next"}] * 2 + [{"after": "4h", "notify": "boss"}]
    )
    with pytest.raises(ValueError) as caught:
        parse_policies(data)
    assert str(caught.value) == (
        "escalation.policies.standard.levels[2].notify: "
        'expected "next", "post:<name>" or "people:<key>,<key>", got \'boss\''
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"repeat_every": timedelta(0), "repeat_max": 1}, "expected values above zero"),
        ({"ack_timeout": timedelta(0)}, "ack_timeout: expected a duration longer than zero"),
        ({"levels": ()}, "levels: expected at least one level"),
    ],
)
def test_policies_built_in_code_are_checked_too(changes, message):
    with pytest.raises(ValueError, match=message):
        replace(parse_policies(EXAMPLE).policy(), **changes)


@pytest.mark.parametrize("name", ["standard", "fast"])
def test_json_round_trip(name):
    policy = parse_policies(EXAMPLE).policy(name)
    data = policy_to_json(policy)
    assert json.loads(json.dumps(data)) == data
    assert policy_from_json(data) == policy
    assert policy_to_json(policy_from_json(data)) == data


def test_json_form():
    assert policy_to_json(parse_policies(EXAMPLE).policy()) == {
        "name": "standard",
        "reminders": ["-30m", "0s"],
        "levels": [
            {"after": "30m", "notify": "next"},
            {"after": "2h", "notify": "next"},
            {"after": "4h", "notify": "post:plant manager"},
            {"after": "6h", "notify": "people:m.keller,h.braun"},
        ],
        "ack_timeout": "2h",
        "repeat_every": "2h",
        "repeat_max": 3,
    }
    assert policy_to_json(parse_policies(EXAMPLE).policy("fast")) == {
        "name": "fast",
        "reminders": [],
        "levels": [{"after": "0s", "notify": "next"}],
        "ack_timeout": "15m",
    }


def test_snapshot_is_independent_of_later_config_edits():
    snapshot = policy_to_json(parse_policies(EXAMPLE).policy())
    edited = with_standard(levels=[{"after": "5m", "notify": "next"}], reminders=[])
    assert parse_policies(edited).policy() != policy_from_json(snapshot)
    assert policy_from_json(snapshot).levels[0].after == 30 * MIN


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"levels": [{"after": "1h", "notify": "next"}]}, "policy.name: expected text, got None"),
        (
            {"name": "x", "levels": [{"after": "1h", "notify": "nxt"}]},
            r"policy.levels[0].notify: expected",
        ),
    ],
)
def test_json_errors(data, message):
    with pytest.raises(ValueError) as caught:
        policy_from_json(data)
    assert message in str(caught.value)
