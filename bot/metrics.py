"""Prometheus metrics (prometheus-client), served at ``/metrics``.

One registry per process. Counters and histograms are updated where things happen (the inbox
workers, the sender, the passes); depths and ages of the inbox and the outbox are read from the
database when ``/metrics`` is scraped (see ``bot.ops``), so every instance reports the same
queue figures and no gauge goes stale.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

UPDATES_RECEIVED = Counter(
    "execbot_updates_received",
    "Updates committed to the inbox, by how they came (polling or webhook).",
    ["mode"],
    registry=REGISTRY,
)
UPDATES_HANDLED = Counter(
    "execbot_updates_handled",
    "Inbox updates handled, by outcome (done, retry, dead).",
    ["outcome"],
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "execbot_update_handling_seconds",
    "Time to handle one update, from claim to done, by kind (tap, message, other).",
    ["kind"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
TAP_ANSWER_SECONDS = Histogram(
    "execbot_tap_answer_seconds",
    "Time from storing a tap in the inbox to answering it (answerCallbackQuery).",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "execbot_messages_sent",
    "Outbox messages Telegram accepted (sends and edits).",
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "execbot_rate_limited",
    "429 answers from the Bot API (each pauses every send for retry_after).",
    registry=REGISTRY,
)
SEND_RETRIES = Counter(
    "execbot_send_retries",
    "Outbox sends that failed and were put back for a later try.",
    registry=REGISTRY,
)
PASS_SECONDS = Histogram(
    "execbot_pass_seconds",
    "Duration of a periodic pass (plan, nudges, escalation, reports, dead) on this instance.",
    ["name"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
    registry=REGISTRY,
)
