"""The store: every SQL statement of the bot, in parts along its seams. Services open the
transaction (``engine.session_scope``) and call these functions with the session; none
commits, none talks to Telegram, none reads the clock (``now`` is passed in).

- ``engine``: the engine (SQLite or PostgreSQL) and the session scope;
- ``chunks``: large ``IN (...)`` lists a chunk at a time (the variable limits);
- ``org``: people and units, invites, reachability; the org tree and the time zone resolver
  built from the stored rows (the one place each is built);
- ``org_sync``: the stored org as the org file compares it, and writing a change plan;
- ``absences``: absences;
- ``planning``: what the planner reads and writes, the nudges due, a person's agenda;
- ``occurrences``: occurrences and their duties, looked up, locked and saved;
- ``replies``: replies and the question pending for a person;
- ``escalation``: the escalation steps due and the notices;
- ``outbox``: messages to send, claims, outcomes, dead messages;
- ``audit``: audit events and reports told once;
- ``settings``: values the bot stores for itself.

Import the part you use: ``from bot.store import outbox`` then ``outbox.claim(...)``.
"""
