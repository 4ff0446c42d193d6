#!/usr/bin/env python3
"""Generate the bundled demo captures: fixtures/demo.jsonl and fixtures/demo-small.jsonl.

    python benchmarks/make_demo.py              # rewrite both files (byte-identical on every run)
    python benchmarks/make_demo.py --check      # exit 1 if the committed files differ from a fresh run
    python benchmarks/make_demo.py --out-dir D  # write them somewhere else
    python benchmarks/make_demo.py --story      # print the story and the planted counts

Standard library only, seeded `random.Random`, no wall-clock reads: the output depends on this file alone.

The story (demo.jsonl, 2026-11-20 14:00:00Z + 6 min, about 5.5 events/s):

* 0:00-3:00  a normal afternoon across the four vendors: mostly normal hang-ups, then the expected
  errors (declined, busy, no answer, canceled, ring timeouts) and a thin tail of real failures.
  The first line is Event Grid's subscription-validation handshake (Event Grid's first delivery).
* 3:00-4:30  INCIDENT, "a regional network problem in West Europe": ACS calls drop with 410/3101
  (CALL_DROPPED_NETWORK_FAILURE) at up to ~10/s (ramp 15 s, plateau, decay 20 s), mostly from
  `westeurope` and ended by MicrosoftInternal; ~0:44 into it ACS 410/301005
  (MEDIA_CONNECTIVITY_LOST) is seen for the first time (a first-seen flag, a handful of events).
* 4:30-6:00  back to normal.
* Throughout: codes no catalog knows (LiveKit value 17 sent as a bare number by a newer server,
  ACS 0/5318, PlanetKit 1513, an app-defined JsSIP cause, a vendor callwatch does not support),
  events with no reason delivered (ACS CallParticipantRemoved and a 2022-style CallEnded, LiveKit
  room_finished, envelopes with `code: null`), PlanetKit USER_ERROR with app-defined user codes,
  markup and ANSI injection attempts inside valid events (call ids, identities, messages), and
  a few lines that are not call ends at all (truncated JSON, a non-object, an unknown shape, a code
  that is an object, a LiveKit participant_joined, the validation handshake).

Half the events use the feed envelope ({ts, vendor, code, subcode?, call_id, source, call_type,
user_code?, message?}), half the vendors' native payloads (fixtures/README.md lists one of each).
Every event carries its own time, so a replay paces by event time.

demo-small.jsonl has the same ingredients in 60 s and about 200 events (incident at 0:25-0:45).
With 60 s of history the default `Aggregate` cannot raise flags (spikes need 2 spike windows of
history, first-seen needs 1000 events or 300 s): tests use a scaled-down aggregate for it.

`build(scenario)` returns the lines and the planted counts; tests/test_demo_capture.py decodes the
files with the real pipeline and checks those counts.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 20, 14, 0, 0, tzinfo=timezone.utc).timestamp()

# ACS resource the whole capture comes from (one Azure subscription, one Communication Services resource).
ACS_SUB = "3c1e5a7b-9d2f-4b6a-8c0e-1f3a5c7e9b2d"
ACS_TOPIC = (f"/subscriptions/{ACS_SUB}/resourceGroups/rg-contact-center/providers/"
             "Microsoft.Communication/communicationServices/acs-contact-center-prod")
ACS_REGIONS = ("westeurope", "northeurope", "eastus2", "japaneast", "australiaeast")
ACS_REGION_CONV = {"westeurope": "euwe", "northeurope": "euno", "eastus2": "usea2", "japaneast": "jpea",
                   "australiaeast": "auea"}


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    filename: str
    seed: int
    span_s: float
    #: Baseline call ends per second per vendor.
    rates: dict[str, float]
    incident_start: float
    ramp_s: float
    plateau_s: float
    decay_s: float
    incident_peak: float
    #: Times (s from T0) of the reason seen for the first time during the incident.
    first_seen_times: tuple[float, ...]
    #: Every baseline reason occurs at least once before this time (so only the planted reasons
    #: are new once the aggregate has warmed up).
    prime_before: float
    #: Planted unusual events: (kind, count) spread over the span.
    planted: dict[str, int] = field(default_factory=dict)
    #: Malformed / not-a-call-end lines to plant: kind -> count.
    malformed: dict[str, int] = field(default_factory=dict)

    @property
    def incident_end(self) -> float:
        return self.incident_start + self.ramp_s + self.plateau_s + self.decay_s


DEMO = Scenario(
    name="demo",
    filename="demo.jsonl",
    seed=20261120,
    span_s=360.0,
    rates={"acs": 1.1, "livekit": 0.95, "planetkit": 0.9, "jssip": 0.65},
    incident_start=180.0,
    ramp_s=15.0,
    plateau_s=55.0,
    decay_s=20.0,
    incident_peak=10.0,
    first_seen_times=(224.3, 236.9, 249.2, 261.6),
    prime_before=150.0,
    planted={
        "unknown_livekit_17": 4,
        "unknown_acs_subcode": 4,
        "unknown_planetkit_1513": 3,
        "unknown_jssip_cause": 4,
        "unknown_vendor": 2,
        "no_reason_envelope": 5,
        "acs_callended_no_reason": 2,
        "injection": 8,
    },
    malformed={
        "validation_handshake": 1,
        "truncated_json": 2,
        "non_object": 2,
        "unknown_shape": 1,
        "code_is_object": 1,
        "livekit_participant_joined": 3,
    },
)

SMALL = Scenario(
    name="demo-small",
    filename="demo-small.jsonl",
    seed=20261121,
    span_s=60.0,
    rates={"acs": 0.75, "livekit": 0.6, "planetkit": 0.6, "jssip": 0.45},
    incident_start=25.0,
    ramp_s=4.0,
    plateau_s=12.0,
    decay_s=4.0,
    incident_peak=3.0,
    first_seen_times=(34.2, 41.7),
    prime_before=18.0,
    planted={
        "unknown_livekit_17": 1,
        "unknown_acs_subcode": 1,
        "unknown_planetkit_1513": 1,
        "unknown_jssip_cause": 1,
        "unknown_vendor": 1,
        "no_reason_envelope": 1,
        "acs_callended_no_reason": 1,
        "injection": 4,
    },
    malformed={
        "validation_handshake": 1,
        "truncated_json": 1,
        "non_object": 1,
        "unknown_shape": 1,
        "code_is_object": 1,
        "livekit_participant_joined": 1,
    },
)

SCENARIOS = (DEMO, SMALL)

#: The incident reason, and the reason first seen during it (vendor, code, subcode).
INCIDENT_REASON = ("acs", "410", "3101")
FIRST_SEEN_REASON = ("acs", "410", "301005")


# --------------------------------------------------------------------------- reason tables
# Each row: (key, weight, extra...). Keys are what the generator writes; the catalogs resolve them.

# ACS calling end reasons: (code, subcode, weight, endedBy type, phrase, result category)
ACS_CALLING = [
    (0, 0, 50, "Participant", "Call ended successfully by local participant.", "Success"),
    (487, 0, 7, "Participant", "Call ended successfully as caller cancelled the call.", "Success"),
    (603, 0, 7, "Participant", "Call ended successfully as it was declined by the callee.", "Success"),
    (487, 10004, 6, "MicrosoftInternal", "Call ended as no one answered within the ring timeout.", "ExpectedError"),
    (487, 10003, 3, "Participant", "Call was accepted elsewhere, by another endpoint of the callee.", "Success"),
    (0, 5000, 3, "Participant", "Call ended as the participant was removed by another participant.", "Success"),
    (0, 4097, 3, "Participant", "Call ended for all users by the meeting organizer.", "Success"),
    (0, 560000, 4, "Participant", "Call ended by the remote PSTN participant.", "Success"),
    (486, 560486, 3, "Participant", "Call ended as the PSTN callee was busy.", "Success"),
    (480, 10037, 2, "MicrosoftInternal", "Call failed: the callee has no registered endpoints.", "ExpectedError"),
    (0, 4521, 3, "MicrosoftInternal", "Call ended as the participant disconnected abruptly (tab or app closed).", "ExpectedError"),
    (410, 3101, 1.5, "MicrosoftInternal", "Call dropped unexpectedly due to a network issue.", "UnexpectedClientError"),
    (410, 3112, 1, "MicrosoftInternal", "Call failed due to a client network configuration problem.", "ExpectedError"),
    (496, 7, 1, "MicrosoftInternal", "Call ended as the network was lost abruptly and retries failed.", "ExpectedError"),
    (408, 4506, 0.5, "MicrosoftInternal", "Call timed out during setup.", "UnexpectedClientError"),
    (490, 4502, 0.5, "MicrosoftInternal", "Browser HTTP request failed.", "UnexpectedClientError"),
    (500, None, 0.5, "MicrosoftInternal", "Internal server error.", "UnexpectedServerError"),
]
# Call Automation CallDisconnected / *Failed: (event type, code, subcode, weight, message)
ACS_AUTOMATION = [
    ("CallDisconnected", 200, 560000, 40, "The conversation has ended. DiagCode: 0#560000.@"),
    ("CallDisconnected", 200, 0, 15, "The conversation has ended. DiagCode: 0#0.@"),
    ("CallDisconnected", 200, 5010, 10, "The conversation has ended as only one participant was left. DiagCode: 0#5010.@"),
    ("CallDisconnected", 200, 7000, 10, "The conversation has ended by the Call Automation application. DiagCode: 0#7000.@"),
    ("CallDisconnected", 200, 7015, 5, "The conversation has ended after a transfer. DiagCode: 0#7015.@"),
    ("CallDisconnected", 200, 5013, 4, "The conversation has ended as no one else joined. DiagCode: 0#5013.@"),
    ("AnswerFailed", 487, 10004, 5, "Call was not answered within the ring timeout."),
    ("CreateCallFailed", 480, 560480, 6, "Callee is temporarily unavailable. DiagCode: 480#560480.@"),
    ("CreateCallFailed", 403, 560403, 2, "Call was forbidden by the destination. DiagCode: 403#560403.@"),
    ("CallDisconnected", 500, 10045, 1, "Internal server error. DiagCode: 500#10045.@"),
    ("ConnectFailed", 429, 10110, 1, "The call exceeded the maximum allowed duration."),
]

# LiveKit DisconnectReason: (name, number, weight, envelope source)
LIVEKIT = [
    ("CLIENT_INITIATED", 1, 55, "client"),
    ("ROOM_DELETED", 5, 6, "server"),
    ("ROOM_CLOSED", 10, 5, "server"),
    ("PARTICIPANT_REMOVED", 4, 3, "server"),
    ("USER_REJECTED", 12, 6, "sip_callee"),
    ("USER_UNAVAILABLE", 11, 7, "sip_callee"),
    ("CONNECTION_TIMEOUT", 14, 3, "server"),
    ("SIGNAL_CLOSE", 9, 2, "client"),
    ("JOIN_FAILURE", 7, 2, "server"),
    ("DUPLICATE_IDENTITY", 2, 1, "server"),
    ("MEDIA_FAILURE", 15, 1, "server"),
    ("SERVER_SHUTDOWN", 3, 1, "server"),
    ("MIGRATION", 8, 1, "server"),
    ("SIP_TRUNK_FAILURE", 13, 1, "server"),
    ("AGENT_ERROR", 16, 0.5, "server"),
    ("(absent)", 0, 1.5, "server"),  # disconnectReason omitted: UNKNOWN_REASON or an old server
    # Embedded devices (client-sdk-esp32) report their own failure reasons (namespace c_sdk).
    ("c_sdk:PING_TIMEOUT", 6, 0.8, "client"),
    ("c_sdk:UNREACHABLE", 1, 0.4, "client"),
    # A room empties after its last participant left: room_finished carries no participant, no reason.
    ("(room_finished)", None, 3, "server"),
]
LIVEKIT_SIP = {"USER_REJECTED": ("SIP_STATUS_BUSY_HERE", "Busy Here", 486),
               "USER_UNAVAILABLE": ("SIP_STATUS_TEMPORARILY_UNAVAILABLE", "Temporarily Unavailable", 480),
               "SIP_TRUNK_FAILURE": ("SIP_STATUS_SERVICE_UNAVAILABLE", "Service Unavailable", 503)}
LIVEKIT_C_SDK_TEXT = {"PING_TIMEOUT": "Ping Timeout", "UNREACHABLE": "Unreachable"}

# JsSIP causes: (cause string, weight, originator, status code or method, reason phrase)
JSSIP = [
    ("Terminated", 58, None, "BYE", None),
    ("Canceled", 9, "local", None, None),
    ("Busy", 7, "remote", 486, "Busy Here"),
    ("Rejected", 6, "remote", 603, "Decline"),
    ("No Answer", 3, "local", None, None),
    ("Unavailable", 5, "remote", 480, "Temporarily Unavailable"),
    ("Not Found", 1, "remote", 404, "Not Found"),
    ("Request Timeout", 1, "local", None, None),
    ("Connection Error", 1.5, "local", None, None),
    ("RTP Timeout", 1, "local", None, None),
    ("SIP Failure Code", 1, "remote", 503, "Service Unavailable"),
    ("Authentication Error", 0.5, "remote", 401, "Unauthorized"),
    ("User Denied Media Access", 1, "local", None, None),
    ("Redirected", 0.3, "remote", 302, "Moved Temporarily"),
    ("Incompatible SDP", 0.5, "remote", 488, "Not Acceptable Here"),
    ("Internal Error", 0.3, "system", None, None),
    ("No ACK", 0.2, "remote", None, None),
    ("Dialog Error", 0.3, "remote", None, None),
    ("Expires", 0.3, "system", None, None),
]

# PlanetKit disconnect reasons: (code, canonical name, Android name, weight, sources 1:1, sources group,
#  terminate (Q.850), rel_code, rel_code_str)
PLANETKIT = [
    (1001, "NORMAL", "NORMAL", 55, (1, 2), (3,), 16, 1, "NORMAL"),
    (1002, "DECLINE", "DECLINE", 8, (1,), None, 21, 3, "REJECT"),
    (1202, "BUSY", "BUSY", 7, (1,), None, 17, 4, "USER_BUSY"),
    (1203, "NOANSWER", "NO_ANSWER", 8, (2,), None, 18, 5, "NO_ANSWER"),
    (1201, "CANCEL", "CANCEL", 7, (2,), None, 77, 2, "CANCEL"),
    (1301, "NETWORK_UNSTABLE", "NETWORK_UNSTABLE", 3, (4,), (4,), 16, 218, "SESS_KEEPALIVE_TIMEOUT"),
    (1206, "MULTIDEV_ANSWER", "MULTIDEV_ANSWER", 2, (4,), None, 127, 7, "MULTI_DEV_ANSWER"),
    (1110, "USER_ERROR", "USER_ERROR", 3, (5, 2), (5,), 16, 514, "APP_DEFINED_ERR"),
    (1208, "MAX_CALL_TIME_EXCEEDED", "MAX_CALL_TIME_EXCEEDED", 1, (4,), (4,), 16, 122, "MAX_CALL_TIME_EXCEED"),
    (1402, "ALONE_KICK_OUT", "ALONE_KICK_OUT", 2, None, (4,), 16, 405, "ALONE_KICK_OUT"),
    (1309, "APP_DESTROY", "APP_DESTROY", 1, (1, 2), (3,), 16, 1, "NORMAL"),
    (1611, "WEB_SIGNALING_UNEXPECTED_DISCONNECTED", None, 1, (2, 1), (3,), 127, 606, "WEB_SIGNALING_DISCONNECTED"),
]
PK_SOURCE_NAMES = {1: "CALLEE", 2: "CALLER", 3: "PARTICIPANT", 4: "CLOUD_SERVER", 5: "APP_SERVER"}
PK_WEB_SOURCES = {1: "callee", 2: "caller", 3: "participant", 4: "cloud_server", 5: "app_server"}
PK_USER_CODES = ("CALLEE_DND_ON", "APP_KICKED_BY_OPERATOR", "PREPAID_BALANCE_EMPTY", "AGENT_REASSIGNED")
PK_USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
            "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yuki")

# Markup / terminal-escape injection attempts, placed in string fields of otherwise valid events.
INJECTIONS = (
    "[bold]x[/bold]",
    "[@click=app.quit]y[/]",
    "\x1b[31mRED\x1b[0m",
    "[link=file:///etc/passwd]click me[/link]",
    "call-\u202eexe.3pm",
    "\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07",
    "[red on white blink]ALERT[/]\r\x1b[2K",
    "zero\u200bwidth\u2060join",
)


# --------------------------------------------------------------------------- ids and times


class Ids:
    """Deterministic, realistic-looking identifiers."""

    B62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    B36 = "abcdefghijklmnopqrstuvwxyz0123456789"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def b62(self, n: int) -> str:
        return "".join(self.rng.choice(self.B62) for _ in range(n))

    def b36(self, n: int) -> str:
        return "".join(self.rng.choice(self.B36) for _ in range(n))

    def acs_user(self) -> str:
        return f"8:acs:{ACS_SUB}_00000025-{self.hex(4)}-{self.hex(4)}-{self.hex(4)}-{self.hex(12)}"

    def acs_server_call_id(self, region: str) -> str:
        conv = ACS_REGION_CONV[region]
        url = (f"https://api.flightproxy.skype.com/api/v2/cp/conv-{conv}-0{self.rng.randint(1, 9)}-prod-akshub"
               f".conv.skype.com/conv/{self.b62(22)}?i=10-{self.rng.randint(60, 130)}-{self.rng.randint(1, 60)}"
               f"-{self.rng.randint(1, 250)}&e=6389{self.rng.randint(10**13, 10**14 - 1)}")
        return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def iso(t: float, digits: int = 3) -> str:
    """RFC 3339 UTC with `digits` (0, 3 or 7) fractional digits; Event Grid and .NET print 7."""
    tm = round(t * 1000)
    whole, msec = divmod(tm, 1000)
    base = datetime.fromtimestamp(whole, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    if digits == 3:
        return f"{base}.{msec:03d}Z"
    return f"{base}.{msec:03d}{(tm * 7919) % 10000:04d}Z"  # sub-millisecond digits: deterministic filler


def ms(t: float) -> int:
    """Unix milliseconds."""
    return round(t * 1000)


def dumps(obj: Any) -> str:
    # ASCII only (escapes, including the injected control and bidi characters, stay visible in the file).
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"))


# --------------------------------------------------------------------------- events


@dataclass
class Event:
    """One planned call end (or planted line) before rendering."""

    t: float
    vendor: str
    kind: str  # "baseline" | "incident" | "first_seen" | a planted kind | a malformed kind
    row: Any = None
    expect: str = "known"  # "known" | "unknown" | "none" | "invalid"
    key: tuple[Any, ...] = ()
    injection: str | None = None


def poisson_times(rng: random.Random, rate_fn: Any, start: float, end: float, max_rate: float) -> list[float]:
    """Event times of a non-homogeneous Poisson process (thinning), rounded to the millisecond."""
    out = []
    t = start
    while True:
        t += rng.expovariate(max_rate)
        if t >= end:
            return out
        if rng.random() * max_rate <= rate_fn(t):
            out.append(round(t, 3))


def incident_rate(s: Scenario, t: float) -> float:
    a = s.incident_start
    if t < a or t >= s.incident_end:
        return 0.0
    if t < a + s.ramp_s:
        return s.incident_peak * (t - a) / s.ramp_s
    if t < a + s.ramp_s + s.plateau_s:
        # a slightly ragged plateau
        return s.incident_peak * (0.9 + 0.1 * math.sin((t - a) / 3.0))
    return s.incident_peak * (s.incident_end - t) / s.decay_s


#: Shape of the gamma inter-arrival times of each reason's baseline stream. 1 would be a Poisson process;
#: 6 keeps each reason's per-minute count within about 0.4 Poisson standard deviations, so that the
#: only spike in the story is the incident (a Poisson stream of a reason at 3/min reaches 6-8 in some
#: minute of six, which the aggregate's default detector, min 5 events and 3x the baseline, flags).
REGULARITY = 6.0


def renewal_times(rng: random.Random, rate: float, span: float) -> list[float]:
    """Arrival times of a stationary gamma renewal process with mean `rate` per second."""
    if rate <= 0:
        return []
    scale = 1.0 / (REGULARITY * rate)
    out = []
    t = rng.gammavariate(REGULARITY, scale) * rng.random()  # random phase
    while t < span:
        out.append(round(t, 3))
        t += rng.gammavariate(REGULARITY, scale)
    return out


def baseline_rows(vendor: str) -> list[tuple[tuple[Any, ...], float]]:
    """(row, share of the vendor's baseline traffic) for every reason of a vendor."""
    if vendor == "acs":
        # A fifth of ACS traffic is Call Automation (server-side calls), 3 % participant-removed events
        # (no reason), the rest calling end reasons.
        aut = sum(r[3] for r in ACS_AUTOMATION)
        cal = sum(r[2] for r in ACS_CALLING)
        return ([(("automation",) + r, 0.22 * r[3] / aut) for r in ACS_AUTOMATION]
                + [(("participant_removed",), 0.03)]
                + [(("calling",) + r, 0.75 * r[2] / cal) for r in ACS_CALLING])
    table, w = {"livekit": (LIVEKIT, 2), "jssip": (JSSIP, 1), "planetkit": (PLANETKIT, 3)}[vendor]
    total = sum(r[w] for r in table)
    return [(r, r[w] / total) for r in table]


def plan(s: Scenario, rng: random.Random) -> list[Event]:
    events: list[Event] = []
    span = s.span_s
    for vendor in ("acs", "livekit", "planetkit", "jssip"):
        for row, share in baseline_rows(vendor):
            for t in renewal_times(rng, s.rates[vendor] * share, span):
                events.append(Event(t, vendor, "baseline", row=row))
    for e in events:
        e.key = _reason_key(e)
    # The incident reason is a known, rare reason before the incident (not a new one).
    if not any(e.key == INCIDENT_REASON for e in events):
        row = next(("calling",) + r for r in ACS_CALLING if (str(r[0]), str(r[1])) == INCIDENT_REASON[1:])
        e = Event(round(rng.uniform(2.0, s.prime_before - 2.0), 3), "acs", "baseline", row=row)
        e.key = INCIDENT_REASON
        events.append(e)

    # Prime: every baseline reason occurs before `prime_before`, so the only reasons that are new after
    # the aggregate's warm-up are the planted ones. Move the first occurrence of a late reason earlier.
    first: dict[tuple[Any, ...], Event] = {}
    for e in sorted(events, key=lambda e: e.t):
        first.setdefault(e.key, e)
    for key in sorted(first, key=repr):
        e = first[key]
        if e.t >= s.prime_before:
            e.t = round(rng.uniform(2.0, s.prime_before - 2.0), 3)

    # The incident.
    for t in poisson_times(rng, lambda x: incident_rate(s, x), s.incident_start, s.incident_end,
                           s.incident_peak * 1.05):
        ev = Event(t, "acs", "incident", row=("incident",))
        ev.key = INCIDENT_REASON
        events.append(ev)
    for t in s.first_seen_times:
        ev = Event(t, "acs", "first_seen", row=("first_seen",))
        ev.key = FIRST_SEEN_REASON
        events.append(ev)

    # Planted unusual events. The first four of each kind (one per vendor for the cross-vendor kinds)
    # land between 10 % and 35 % of the span, before the aggregate's warm-up ends, so that none of
    # their reasons is flagged as new: the only first-seen reason of the story is the incident's.
    # Injection attempts are spread over the whole span.
    vendors = ("livekit", "jssip", "planetkit", "acs")
    for kind, n in s.planted.items():
        for i in range(n):
            if i < 4 and kind != "injection":
                t = rng.uniform(0.1 * span, 0.35 * span)
            else:
                t = rng.uniform(0.05 * span, 0.97 * span)
            vendor = {"unknown_livekit_17": "livekit", "unknown_acs_subcode": "acs",
                      "unknown_planetkit_1513": "planetkit", "unknown_jssip_cause": "jssip",
                      "unknown_vendor": "twilio", "acs_callended_no_reason": "acs"}.get(kind)
            if vendor is None:
                vendor = vendors[i % len(vendors)]
            expect = ("unknown" if kind.startswith("unknown") else
                      "none" if kind in ("no_reason_envelope", "acs_callended_no_reason") else "known")
            ev = Event(round(t, 3), vendor, kind, expect=expect)
            if kind == "injection":
                ev.injection = INJECTIONS[i % len(INJECTIONS)]
                ev.row = _common_row(rng, vendor)
            events.append(ev)

    # Malformed lines and non-call-end noise.
    for kind, n in s.malformed.items():
        for i in range(n):
            t = 0.0 if kind == "validation_handshake" else rng.uniform(0.02 * span, 0.98 * span)
            events.append(Event(round(t, 3), "-", kind, expect="invalid"))
    events.sort(key=lambda e: (e.t, e.vendor, e.kind))
    return events


def _common_row(rng: random.Random, vendor: str) -> tuple[Any, ...]:
    if vendor == "acs":
        return ("calling",) + ACS_CALLING[0]
    if vendor == "livekit":
        return LIVEKIT[0]
    if vendor == "planetkit":
        return PLANETKIT[7]  # USER_ERROR: the injection also lands in the app-defined user code
    return JSSIP[rng.choice((0, 2))]


def _reason_key(e: Event) -> tuple[Any, ...]:
    r = e.row
    if e.vendor == "acs":
        if r[0] == "automation":
            return ("acs", str(r[2]), str(r[3]))
        if r[0] == "participant_removed":
            return ("acs", None, None)
        return ("acs", str(r[1]), None if r[2] is None else str(r[2]))
    if e.vendor == "livekit":
        return ("livekit", r[0])
    if e.vendor == "planetkit":
        return ("planetkit", r[0])
    return ("jssip", r[0])


# --------------------------------------------------------------------------- rendering


class Renderer:
    """Turns planned events into lines: half envelope, half native payloads."""

    def __init__(self, s: Scenario, rng: random.Random) -> None:
        self.s = s
        self.rng = rng
        self.ids = Ids(rng)
        self.lines: list[tuple[float, int, str]] = []  # (time, order, text)
        self.stats: dict[str, Any] = {
            "events": 0, "unknown": 0, "no_reason": 0, "invalid_lines": 0, "invalid_elements": 0,
            "by_vendor": {}, "by_format": {}, "injection": 0, "envelope": 0, "native": 0,
            "incident": 0, "first_seen": 0, "unknown_vendor": 0, "unknown_by_vendor": {},
            "no_reason_by_vendor": {}, "invalid_kinds": {},
        }
        self._eg_batch: list[tuple[float, dict[str, Any]]] = []
        self._order = 0
        self._livekit_rooms: list[tuple[str, str]] = []

    # -- bookkeeping

    def emit(self, t: float, text: str) -> None:
        self._order += 1
        self.lines.append((t, self._order, text))

    def count(self, vendor: str, expect: str, fmt: str, n: int = 1) -> None:
        st = self.stats
        st["events"] += n
        st["by_vendor"][vendor] = st["by_vendor"].get(vendor, 0) + n
        st["by_format"][fmt] = st["by_format"].get(fmt, 0) + n
        if expect == "unknown":
            st["unknown"] += n
            st["unknown_by_vendor"][vendor] = st["unknown_by_vendor"].get(vendor, 0) + n
        elif expect == "none":
            st["no_reason"] += n
            st["no_reason_by_vendor"][vendor] = st["no_reason_by_vendor"].get(vendor, 0) + n
        st["envelope" if fmt == "envelope" else "native"] += n

    def envelope(self, t: float, vendor: str, code: Any, *, subcode: Any = None, call_id: str | None = None,
                 source: str | None = None, call_type: str | None = None, user_code: str | None = None,
                 message: str | None = None, extra: dict[str, Any] | None = None,
                 namespace: str | None = None, vendor_spelling: str | None = None) -> None:
        rng = self.rng
        style = rng.random()
        ts: Any = iso(t) if style < 0.7 else (round(t, 3) if style < 0.9 else ms(t))
        obj: dict[str, Any] = {"ts": ts, "vendor": vendor_spelling or vendor, "code": code}
        if subcode is not None:
            obj["subcode"] = subcode
        if namespace is not None:
            obj["namespace"] = namespace
        obj["call_id"] = call_id
        if source is not None:
            obj["source"] = source
        if call_type is not None:
            obj["call_type"] = call_type
        if user_code is not None:
            obj["user_code"] = user_code
        if message is not None:
            obj["message"] = message
        if extra:
            obj["extra"] = extra
        self.emit(t, dumps(obj))

    # -- dispatch

    def render(self, e: Event) -> None:
        if e.expect == "invalid":
            self.malformed(e)
            return
        if e.kind in ("incident", "first_seen"):
            self.acs_network(e)
            self.stats[e.kind] += 1
            return
        if e.kind == "injection":
            self.stats["injection"] += 1
        getattr(self, e.vendor if e.vendor != "twilio" else "other_vendor")(e)

    def flush(self, before: float | None = None) -> None:
        """Emit the pending Event Grid batch (one HTTP delivery = one JSON array line)."""
        if self._eg_batch and (before is None or before - self._eg_batch[0][0] > 1.0 or len(self._eg_batch) >= 4):
            t0 = self._eg_batch[0][0]
            self.emit(t0, dumps([obj for _t, obj in self._eg_batch]))
            self._eg_batch = []

    # -- ACS

    def acs_region(self, incident: bool = False) -> str:
        if incident:
            return "westeurope" if self.rng.random() < 0.9 else "northeurope"
        return self.rng.choices(ACS_REGIONS, weights=(30, 10, 35, 15, 10))[0]

    def acs(self, e: Event) -> None:
        rng = self.rng
        r = e.row
        inj = e.injection
        if e.kind == "unknown_acs_subcode":
            # A subcode Microsoft added after our catalog (code 0 has no class fallback).
            r = ("calling", 0, 5318, 0, "Participant", "Call ended as the participant was moved to a breakout room.",
                 "Success")
        if e.kind == "no_reason_envelope":
            self.envelope(e.t, "acs", None, call_id=self.ids.uuid(), call_type="group",
                          message="participant removed; the event carries no reason")
            self.count("acs", "none", "envelope")
            return
        if e.kind == "acs_callended_no_reason":
            self.acs_eventgrid_callended(e, None, "Participant", region=self.acs_region(), legacy=True)
            self.count("acs", "none", "acs.eventgrid")
            return
        expect = "unknown" if e.kind == "unknown_acs_subcode" else "known"
        if r[0] == "participant_removed":
            self.acs_participant_removed(e)
            self.count("acs", "none", "acs.eventgrid")
            return
        if r[0] == "automation":
            if inj is None and rng.random() < 0.7:
                self.acs_automation(e, r)
                self.count("acs", expect, "acs.call_automation")
            else:
                _kind, etype, code, sub, _w, msg = r
                self.envelope(e.t, "acs", code, subcode=sub, call_id=inj or self.ids.uuid(),
                              source="MicrosoftInternal" if code != 200 else "Participant",
                              call_type="1:1", message=msg, extra={"event_type": etype})
                self.count("acs", expect, "envelope")
            return
        _kind, code, sub, _w, ended_by, phrase, category = r
        region = self.acs_region()
        x = rng.random()
        if inj is not None or x < 0.5:
            spelling = "Azure" if rng.random() < 0.05 else None
            self.envelope(e.t, "acs", code, subcode=sub, call_id=inj or self.ids.uuid(), source=ended_by,
                          call_type="1:1" if rng.random() < 0.75 else "group", message=phrase,
                          extra={"region": region}, vendor_spelling=spelling)
            self.count("acs", expect, "envelope")
        elif x < 0.8:
            self.acs_eventgrid_callended(e, (code, sub, phrase), ended_by, region=region)
            self.count("acs", expect, "acs.eventgrid")
        else:
            self.acs_sdk(e, code, sub, phrase, category)
            self.count("acs", expect, "acs.calling_sdk")

    def acs_network(self, e: Event) -> None:
        """The incident (410/3101) and the first-seen reason (410/301005)."""
        rng = self.rng
        if e.kind == "incident":
            code, sub, phrase, cat = 410, 3101, "Call dropped unexpectedly due to a network issue.", "UnexpectedClientError"
        else:
            code, sub, phrase, cat = 410, 301005, "Call ended as media connectivity was lost.", "UnexpectedClientError"
        region = self.acs_region(incident=True)
        x = rng.random()
        if x < 0.45:
            self.envelope(e.t, "acs", code, subcode=sub, call_id=self.ids.uuid(), source="MicrosoftInternal",
                          call_type="1:1" if rng.random() < 0.7 else "group", message=phrase,
                          extra={"region": region})
            self.count("acs", "known", "envelope")
        elif x < 0.85:
            self.acs_eventgrid_callended(e, (code, sub, phrase), "MicrosoftInternal", region=region)
            self.count("acs", "known", "acs.eventgrid")
        else:
            self.acs_sdk(e, code, sub, phrase, cat)
            self.count("acs", "known", "acs.calling_sdk")

    def _acs_ident(self, raw: str | None = None) -> dict[str, Any]:
        raw = raw or self.ids.acs_user()
        return {"rawId": raw, "communicationUser": {"id": raw}}

    def acs_eventgrid_callended(self, e: Event, reason: tuple[Any, ...] | None, ended_by: str, *, region: str,
                                legacy: bool = False) -> None:
        rng = self.rng
        ids = self.ids
        scid = ids.acs_server_call_id(region)
        two_party = rng.random() < 0.75
        data: dict[str, Any] = {
            "startedBy": {"communicationIdentifier": self._acs_ident(), "role": "Attendee"},
            "serverCallId": scid,
        }
        if not two_party:
            data["group"] = {"id": ids.uuid()}
        data["isTwoParty"] = two_party
        data["correlationId"] = ids.uuid()
        data["isRoomsCall"] = False
        if legacy:
            data["durationOfCall"] = round(rng.uniform(5, 600), 1)
        else:
            if ended_by == "MicrosoftInternal":
                data["endedBy"] = {"communicationIdentifier": {"rawId": ""}, "type": "MicrosoftInternal",
                                   "name": ""}
            else:
                data["endedBy"] = {"communicationIdentifier": self._acs_ident(), "type": "Participant",
                                   "name": rng.choice(("Alice", "Agent 12", "Bob (callee)", "Support desk", "Dana"))}
            assert reason is not None
            code, sub, phrase = reason
            data["reason"] = {"code": code, "subCode": sub, "phrase": phrase} if sub is not None else \
                {"code": code, "phrase": phrase}
            data["callDurationInSeconds"] = 0 if code in (487, 603, 480, 486) else rng.randint(3, 1500)
        obj = {
            "id": ids.uuid(),
            "topic": ACS_TOPIC,
            "subject": f"call/{scid}",
            "data": data,
            "eventType": "Microsoft.Communication.CallEnded",
            "dataVersion": "1.0",
            "metadataVersion": "1",
            "eventTime": iso(e.t, 7),
        }
        self.eventgrid(e.t, obj)

    def acs_participant_removed(self, e: Event) -> None:
        ids = self.ids
        region = self.acs_region()
        scid = ids.acs_server_call_id(region)
        user = ids.acs_user()
        obj = {
            "id": ids.uuid(),
            "topic": ACS_TOPIC,
            "subject": f"call/{scid}/participant/{user}",
            "data": {
                "user": self._acs_ident(user),
                "displayName": self.rng.choice(("Bob", "Guest", "Agent 7", "Kenji", "Priya")),
                "participantId": ids.uuid(),
                "userAgent": self.rng.choice((
                    "azure-communication-services/1.31.2 (os=Windows; browser=Edge)",
                    "azure-communication-services/1.31.2 (os=macOS; browser=Chrome)",
                    "azure-communication-services/2.14.0 (os=Android; platform=native)",
                )),
                "startedBy": {"communicationIdentifier": self._acs_ident(), "role": "Attendee"},
                "serverCallId": scid,
                "group": {"id": ids.uuid()},
                "isTwoParty": False,
                "correlationId": ids.uuid(),
                "isRoomsCall": False,
            },
            "eventType": "Microsoft.Communication.CallParticipantRemoved",
            "dataVersion": "1.0",
            "metadataVersion": "1",
            "eventTime": iso(e.t, 7),
        }
        self.eventgrid(e.t, obj)

    def eventgrid(self, t: float, obj: dict[str, Any]) -> None:
        self.flush(before=t)
        self._eg_batch.append((t, obj))

    def acs_automation(self, e: Event, r: tuple[Any, ...]) -> None:
        ids = self.ids
        _kind, etype, code, sub, _w, msg = r
        conn = ids.uuid()
        info: dict[str, Any] = {"code": code, "subCode": sub, "message": msg}
        if sub in (560480, 560403):
            sip = {560480: (480, "Temporarily Unavailable"), 560403: (403, "Forbidden")}[sub]
            info["sipDetails"] = {"code": sip[0], "message": sip[1]}
            info["q850Details"] = {"code": 18 if sip[0] == 480 else 21,
                                   "message": "No user responding" if sip[0] == 480 else "Call rejected"}
        obj = [{
            "id": ids.uuid(),
            "source": f"calling/callConnections/{conn}",
            "type": f"Microsoft.Communication.{etype}",
            "data": {
                "resultInformation": info,
                "version": "2024-09-15",
                "operationContext": self.rng.choice(("outbound-agent-call", "ivr-main", "callback-queue")),
                "callConnectionId": conn,
                "serverCallId": ids.acs_server_call_id(self.acs_region()),
                "correlationId": ids.uuid(),
                "publicEventType": f"Microsoft.Communication.{etype}",
            },
            "time": iso(e.t, 7)[:-1] + "+00:00",
            "specversion": "1.0",
            "datacontenttype": "application/json",
            "subject": f"calling/callConnections/{conn}",
        }]
        self.emit(e.t, dumps(obj))

    def acs_sdk(self, e: Event, code: int, sub: int | None, phrase: str, category: str) -> None:
        rng = self.rng
        if rng.random() < 0.7:  # JS Calling SDK, logged by the app
            reason: dict[str, Any] = {"code": code}
            if sub is not None:
                reason["subCode"] = sub
            reason["message"] = phrase
            reason["resultCategories"] = [category]
            obj = {"callId": self.ids.uuid(), "state": "Disconnected",
                   "direction": rng.choice(("Outgoing", "Incoming")), "callEndReason": reason, "ts": iso(e.t)}
        else:  # Android / iOS: `subcode`, Unix seconds
            reason = {"code": code}
            if sub is not None:
                reason["subcode"] = sub
            obj = {"callId": self.ids.uuid(), "state": "DISCONNECTED", "callEndReason": reason,
                   "ts": round(e.t, 3)}
        self.emit(e.t, dumps(obj))

    # -- LiveKit

    def livekit_room(self) -> tuple[str, str]:
        rng = self.rng
        if self._livekit_rooms and rng.random() < 0.6:
            return rng.choice(self._livekit_rooms)
        room = ("RM_" + self.ids.b62(12),
                rng.choice(("support", "sales", "standup", "interview", "tutoring", "telehealth")) + "-" +
                str(rng.randint(1000, 9999)))
        self._livekit_rooms.append(room)
        if len(self._livekit_rooms) > 40:
            self._livekit_rooms.pop(0)
        return room

    def livekit(self, e: Event) -> None:
        rng = self.rng
        inj = e.injection
        if e.kind == "unknown_livekit_17":
            # A server newer than the catalog, relayed with enum numbers: the bare number 17.
            self.livekit_webhook(e, ("(new)", 17, 0, "server"), numeric=True)
            self.count("livekit", "unknown", "livekit.webhook")
            return
        if e.kind == "no_reason_envelope":
            sid, _name = self.livekit_room()
            self.envelope(e.t, "livekit", None, call_id=sid, source="server",
                          message="room closed; no participant reason in the event")
            self.count("livekit", "none", "envelope")
            return
        name, number, _w, source = e.row
        x = rng.random()
        if name.startswith("c_sdk:"):
            if x < 0.3:
                self.envelope(e.t, "livekit", number, namespace="c_sdk", call_id=self.livekit_room()[1],
                              source=source, call_type="group", message=LIVEKIT_C_SDK_TEXT[name[6:]])
                self.count("livekit", "known", "envelope")
            else:
                self.livekit_c_sdk(e, number, name[6:])
                self.count("livekit", "known", "livekit.c_sdk")
            return
        if name == "(room_finished)":
            if x < 0.8:
                self.livekit_room_finished(e.t)
                self.count("livekit", "none", "livekit.webhook")
            else:
                self.envelope(e.t, "livekit", None, call_id=self.livekit_room()[0], source=source,
                              message="room_finished: no participant, no reason")
                self.count("livekit", "none", "envelope")
            return
        if name == "(absent)":
            self.livekit_webhook(e, e.row)
            self.count("livekit", "known", "livekit.webhook")
            return
        if inj is not None:
            if rng.random() < 0.5:
                self.envelope(e.t, "livekit", name, call_id=inj, source=source, call_type="group")
                self.count("livekit", "known", "envelope")
            else:
                self.livekit_webhook(e, e.row, identity=inj)
                self.count("livekit", "known", "livekit.webhook")
            return
        if x < 0.5:
            sid, _room = self.livekit_room()
            self.envelope(e.t, "livekit", name if rng.random() < 0.85 else number, call_id=sid, source=source,
                          call_type="group" if rng.random() < 0.6 else "1:1",
                          vendor_spelling="LiveKit" if rng.random() < 0.1 else None)
            self.count("livekit", "known", "envelope")
        elif name in LIVEKIT_SIP and x < 0.7:
            self.livekit_sip(e, name)
            self.count("livekit", "known", "livekit.sip")
        elif x < 0.9 or name in LIVEKIT_SIP:
            self.livekit_webhook(e, e.row, numeric=rng.random() < 0.1, snake=rng.random() < 0.08)
            self.count("livekit", "known", "livekit.webhook")
        else:
            self.livekit_client(e, number)
            self.count("livekit", "known", "livekit.client")

    def livekit_webhook(self, e: Event, row: tuple[Any, ...], *, numeric: bool = False, snake: bool = False,
                        identity: str | None = None) -> None:
        rng = self.rng
        ids = self.ids
        name, number, _w, _source = row
        sid, room_name = self.livekit_room()
        created = int(e.t) - rng.randint(60, 3000)
        joined = created + rng.randint(1, 50)
        event = "participant_connection_aborted" if name == "JOIN_FAILURE" else "participant_left"
        sip = name in LIVEKIT_SIP
        ident = identity or (f"sip_+1510555{rng.randint(1000, 9999)}" if sip else
                             rng.choice(("agent", "caller", "user", "guest", "tutor", "patient")) + "-" +
                             str(rng.randint(1, 400)))
        if snake:
            participant: dict[str, Any] = {"sid": "PA_" + ids.b62(12), "identity": ident, "state": "DISCONNECTED",
                                           "joined_at": str(joined), "name": ident, "version": rng.randint(2, 12)}
            if sip:
                participant["kind"] = "SIP"
            if name != "(absent)":
                participant["disconnect_reason"] = number if numeric else name
            obj = {"event": event,
                   "room": {"sid": sid, "name": room_name, "empty_timeout": 300, "creation_time": str(created),
                            "num_participants": rng.randint(0, 4)},
                   "participant": participant, "id": "EV_" + ids.b62(12), "created_at": str(int(e.t))}
        else:
            participant = {"sid": "PA_" + ids.b62(12), "identity": ident}
            if event == "participant_left":
                participant["state"] = "DISCONNECTED"
                participant["joinedAt"] = str(joined)
                participant["joinedAtMs"] = str(joined * 1000 + rng.randint(0, 999))
            participant["name"] = ident
            participant["version"] = rng.randint(1, 12)
            participant["permission"] = {"canSubscribe": True, "canPublish": True, "canPublishData": True}
            if sip:
                participant["kind"] = "SIP"
            if name != "(absent)":
                participant["disconnectReason"] = number if numeric else name
            obj = {"event": event,
                   "room": {"sid": sid, "name": room_name, "emptyTimeout": 300, "departureTimeout": 20,
                            "creationTime": str(created), "numParticipants": rng.randint(0, 4)},
                   "participant": participant, "id": "EV_" + ids.b62(12), "createdAt": str(int(e.t))}
        # createdAt has whole seconds only: the line sits at that second (replay paces by it).
        self.emit(float(int(e.t)), dumps(obj))

    def livekit_room_finished(self, t: float) -> None:
        sid, room_name = self.livekit_room()
        created = int(t) - self.rng.randint(120, 3000)
        obj = {"event": "room_finished",
               "room": {"sid": sid, "name": room_name, "emptyTimeout": 300, "departureTimeout": 20,
                        "creationTime": str(created), "version": {"unixMicro": str(ms(t) * 1000)}},
               "id": "EV_" + self.ids.b62(12), "createdAt": str(int(t))}
        self.emit(float(int(t)), dumps(obj))  # createdAt: whole seconds

    def livekit_sip(self, e: Event, name: str) -> None:
        rng = self.rng
        ids = self.ids
        status_name, status_text, status = LIVEKIT_SIP[name]
        sid, room_name = self.livekit_room()
        created_ns = ms(e.t - rng.uniform(5, 40)) * 1_000_000
        obj = {
            "callId": "SCL_" + ids.b62(12),
            "trunkId": "ST_" + ids.b62(12),
            "roomName": room_name,
            "roomId": sid,
            "participantIdentity": f"sip_+1510555{rng.randint(1000, 9999)}",
            "callStatus": "SCS_ERROR",
            "createdAtNs": str(created_ns),
            "endedAtNs": str(ms(e.t) * 1_000_000),
            "disconnectReason": name,
            "error": f"sip status: {status}: {status_text}",
            "callStatusCode": {"code": status_name, "status": status_text},
            "callDirection": "SCD_OUTBOUND",
            "region": rng.choice(("us-west", "eu-central", "ap-northeast")),
            "sipCallId": f"{ids.hex(14)}@pcx.carrier.example",
        }
        self.emit(e.t, dumps(obj))

    def livekit_client(self, e: Event, number: int) -> None:
        _sid, room_name = self.livekit_room()
        obj = {"event": "Disconnected", "reason": number, "room": room_name,
               "identity": f"user-{self.rng.randint(1, 400)}", "ts": ms(e.t)}
        self.emit(e.t, dumps(obj))

    def livekit_c_sdk(self, e: Event, value: int, enum: str) -> None:
        room = self.rng.choice(("kitchen-speaker", "doorbell-2", "kiosk-lobby"))
        if self.rng.random() < 0.5:
            obj: dict[str, Any] = {"sdk": "client-sdk-esp32", "room": room,
                                   "connection_state": "LIVEKIT_CONNECTION_STATE_FAILED",
                                   "failure_reason": value, "failure_reason_str": LIVEKIT_C_SDK_TEXT[enum],
                                   "ts": round(e.t, 3)}
        else:
            obj = {"livekit_failure_reason": f"LIVEKIT_FAILURE_REASON_{enum}", "room": room,
                   "state": "LIVEKIT_CONNECTION_STATE_FAILED", "ts": round(e.t, 3)}
        self.emit(e.t, dumps(obj))

    # -- JsSIP

    def jssip(self, e: Event) -> None:
        rng = self.rng
        inj = e.injection
        if e.kind == "unknown_jssip_cause":
            # terminate({cause}) lets the app pass any string.
            row: tuple[Any, ...] = ("Agent Transfer", 0, "local", None, None)
            expect = "unknown"
        elif e.kind == "no_reason_envelope":
            self.envelope(e.t, "jssip", None, call_id=self.ids.b36(20), source="remote",
                          message="session ended; cause not logged")
            self.count("jssip", "none", "envelope")
            return
        else:
            row, expect = e.row, "known"
        cause, _w, originator, status, phrase = row
        if originator is None:
            originator = rng.choice(("local", "remote"))
        call_id = self.ids.b36(20)
        if inj is not None or rng.random() < 0.5:
            self.envelope(e.t, "jssip", cause, call_id=inj or call_id, source=originator,
                          call_type="1:1", message=(f"{status} {phrase}" if isinstance(status, int) else None))
            self.count("jssip", expect, "envelope")
            return
        message: Any
        if isinstance(status, int):
            headers: dict[str, Any] = {
                "Via": [{"raw": f"SIP/2.0/WSS {self.ids.b36(12)}.invalid;branch=z9hG4bK{rng.randint(10**6, 10**7)}"}],
                "Call-ID": [{"raw": call_id}],
                "CSeq": [{"raw": f"{rng.randint(1000, 9999)} INVITE"}],
            }
            if status in (486, 603, 480):
                q = {486: (17, "User busy"), 603: (21, "Call rejected"), 480: (18, "No user responding")}[status]
                headers["Reason"] = [{"raw": f'Q.850;cause={q[0]};text="{q[1]}"'}]
            headers["Content-Length"] = [{"raw": "0"}]
            message = {"method": "INVITE", "status_code": status, "reason_phrase": phrase, "call_id": call_id,
                       "cseq": rng.randint(1000, 9999), "from_tag": self.ids.b36(10), "to_tag": self.ids.b36(10),
                       "headers": headers, "body": ""}
        elif status == "BYE":
            message = {"method": "BYE", "ruri": f"sip:{rng.choice(PK_USERS)}@{self.ids.b36(12)}.invalid;transport=ws",
                       "call_id": call_id, "cseq": rng.randint(100, 999), "from_tag": self.ids.b36(10),
                       "to_tag": self.ids.b36(10),
                       "headers": {"Call-ID": [{"raw": call_id}], "Reason": [{"raw": 'Q.850;cause=16;text="Normal call clearing"'}]},
                       "body": ""}
        elif cause == "Internal Error":
            message = "TypeError: Cannot read properties of null (reading 'getTracks')"
        else:
            message = None
        event = "ended" if cause in ("Terminated", "Connection Error", "Request Timeout", "RTP Timeout",
                                     "No ACK", "Dialog Error") else "failed"
        if rng.random() < 0.8:
            obj: dict[str, Any] = {"event": event, "ts": iso(e.t) if rng.random() < 0.7 else round(e.t, 3),
                                   "session_id": call_id,
                                   "data": {"originator": originator, "cause": cause, "message": message}}
        else:  # the bare event data, logged with a time by the app
            obj = {"originator": originator, "cause": cause, "message": message, "ts": iso(e.t)}
        self.emit(e.t, dumps(obj))
        self.count("jssip", expect, "jssip.session")

    # -- PlanetKit

    def planetkit(self, e: Event) -> None:
        rng = self.rng
        inj = e.injection
        if e.kind == "no_reason_envelope":
            self.envelope(e.t, "planetkit", None, call_id=self.ids.uuid(), source="4", call_type="1:1",
                          message="callback without disconnect_reason")
            self.count("planetkit", "none", "envelope")
            return
        if e.kind == "unknown_planetkit_1513":
            row: tuple[Any, ...] = (1513, "(new 1513)", None, 0, (4,), (4,), 127, 1000, "UNKNOWN_ERROR")
            expect = "unknown"
        else:
            row, expect = e.row, "known"
        code, name, android, _w, src11, srcgrp, terminate, rel, rel_str = row
        group = src11 is None or (srcgrp is not None and rng.random() < 0.3)
        sources = srcgrp if group else src11
        source = rng.choice(sources)
        user_code = rng.choice(PK_USER_CODES) if code == 1110 else None
        if inj is not None and code == 1110:
            user_code = inj
        call_type = "group" if group else "1:1"
        sid = self.ids.hex(32) if group else self.ids.uuid()
        x = rng.random()
        if inj is not None or x < 0.5:
            as_name = rng.random() < 0.2 and android is not None
            self.envelope(e.t, "planetkit", (android if as_name else code), call_id=inj or sid,
                          source=str(source) if rng.random() < 0.7 else PK_SOURCE_NAMES[source],
                          call_type=call_type, user_code=user_code,
                          vendor_spelling="PlanetKit" if rng.random() < 0.1 else None)
            self.count("planetkit", expect, "envelope")
            return
        if code == 1611 or (code >= 1600 and code < 1700):
            fmt = "web"
        elif group:
            fmt = rng.choice(("appserver_group", "android", "ios", "flutter"))
        else:
            fmt = rng.choices(("appserver", "android", "ios", "web", "windows", "flutter"),
                              weights=(35, 20, 15, 15, 7, 8))[0]
        if fmt in ("android",) and android is None:
            fmt = "ios"
        ts_iso = iso(e.t)
        by_remote = source in (1, 3) if fmt != "appserver" else None
        if fmt == "appserver":
            self.planetkit_appserver(e, row, source, user_code, sid)
            self.count("planetkit", expect, "planetkit.appserver")
            return
        if fmt == "appserver_group":
            self.planetkit_appserver_group(e, row, source, sid)
            self.count("planetkit", expect, "planetkit.appserver")
            return
        if fmt == "android":
            obj: dict[str, Any] = {"reason": android if expect == "known" else code, "source": PK_SOURCE_NAMES[source],
                                   "byRemote": by_remote, "userCode": user_code, "call_type": call_type,
                                   "call_id": sid, "ts": ts_iso}
            fmt_name = "planetkit.sdk"
        elif fmt == "ios":
            obj = {"reason": code, "source": source, "byRemote": by_remote, "userCode": user_code,
                   "call_id": sid, "ts": round(e.t, 3)}
            fmt_name = "planetkit.sdk"
        elif fmt == "windows":
            obj = {"reason": f"PLNK_DISCONNECT_REASON_{name}" if expect == "known" else code, "source": source,
                   "byRemote": by_remote, "userCode": user_code, "call_id": sid, "ts": ts_iso}
            fmt_name = "planetkit.sdk"
        elif fmt == "web":
            obj = {"source": PK_WEB_SOURCES[source],
                   "reason": {"code": code, "strCode": f"PLANETKIT_DISCONNECT_REASON_{name}" if expect == "known"
                              else "PLANETKIT_DISCONNECT_REASON_UNKNOWN"},
                   "call_id": sid, "ts": ts_iso}
            fmt_name = "planetkit.web"
        else:  # flutter
            obj = {"type": 2 if group else 0, "id": sid, "subType": 1, "disconnectReason": code,
                   "disconnectSource": source, "userCode": user_code or "", "byRemote": by_remote,
                   "ts": ms(e.t)}
            fmt_name = "planetkit.flutter"
        self.emit(e.t, dumps(obj))
        self.count("planetkit", expect, fmt_name)

    def planetkit_appserver(self, e: Event, row: tuple[Any, ...], source: int, user_code: str | None,
                            sid: str) -> None:
        rng = self.rng
        code, _name, _android, _w, _s1, _sg, terminate, rel, rel_str = row
        end = int(e.t)
        answered = code in (1001, 1301, 1110, 1208, 1309)
        duration = rng.randint(4, 1200) if answered else 0
        setup = end - duration - rng.randint(2, 30 if code != 1203 else 60)
        caller, callee = rng.sample(PK_USERS, 2)
        obj = {"sid": sid, "from_service_id": "contact-center.example", "from_user_id": caller,
               "to_service_id": "contact-center.example", "to_user_id": callee,
               "type": rng.choice(("A", "V")), "stid": "",
               "setup_time": str(setup), "start_time": str(end - duration) if answered else "0",
               "end_time": str(end), "duration": str(duration),
               "srcip": f"198.51.100.{rng.randint(2, 250)}", "dstip": f"203.0.113.{rng.randint(2, 250)}",
               "terminate": "16" if duration > 0 else str(terminate), "rel_code": str(rel),
               "rel_code_str": rel_str, "user_rel_code": user_code or "",
               "billing_sec": str(duration + 1 if duration else 0),
               "disconnect_reason": str(code), "releaser_type": str(source)}
        self.emit(float(end), dumps(obj))  # end_time: whole seconds

    def planetkit_appserver_group(self, e: Event, row: tuple[Any, ...], source: int, sid: str) -> None:
        rng = self.rng
        code, _name, _android, _w, _s1, _sg, _terminate, rel, rel_str = row
        setup = int(e.t) - rng.randint(60, 1800)
        host, user = rng.sample(PK_USERS, 2)
        obj = {"sid": sid, "svc_id": "contact-center.example", "id": rng.choice(("standup-room", "team-sync", "class-3b")),
               "user_svc_id": "contact-center.example", "user_id": user, "host_svc_id": "contact-center.example",
               "host_id": host, "sc": "C", "setup_time": str(setup), "start_time": str(setup + 3), "end_time": "0",
               "online": str(rng.randint(1, 6)), "media_type": rng.choice(("A", "V")), "msc": "D", "stid": "",
               "ts": str(ms(e.t)), "rel_code": str(rel), "rel_code_str": rel_str,
               "ue_type": rng.choice(("UE_TYPE_ANDROID", "UE_TYPE_IOS", "UE_TYPE_BROWSER", "UE_TYPE_DESKTOPWIN")),
               "display_name": user.title(), "disconnect_reason": str(code), "releaser_type": str(source)}
        self.emit(e.t, dumps(obj))

    # -- others

    def other_vendor(self, e: Event) -> None:
        """An envelope from a vendor callwatch has no catalog for: counted as an unknown reason."""
        self.envelope(e.t, "twilio", "completed", call_id="CA" + self.ids.hex(32), source="callee",
                      call_type="1:1", message="vendor without a callwatch catalog")
        self.count("twilio", "unknown", "envelope")
        self.stats["unknown_vendor"] += 1

    def malformed(self, e: Event) -> None:
        rng = self.rng
        kind = e.kind
        if kind == "validation_handshake":
            code = self.ids.uuid()
            text = dumps([{
                "id": self.ids.uuid(), "topic": ACS_TOPIC, "subject": "",
                "data": {"validationCode": code,
                         "validationUrl": "https://rp-westeurope.eventgrid.azure.net:553/eventsubscriptions/"
                                          f"callwatch-sub/validate?id={code}&t={iso(e.t, 7)}"
                                          "&apiVersion=2018-05-01-preview&token=redacted"},
                "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "eventTime": iso(e.t, 7),
                "metadataVersion": "1", "dataVersion": "1"}])
        elif kind == "truncated_json":
            # A line cut mid-write (a log rotated, a proxy limit): an envelope or a webhook.
            full = dumps({"ts": iso(e.t), "vendor": "livekit", "code": "CLIENT_INITIATED",
                          "call_id": "RM_" + self.ids.b62(12), "source": "client", "call_type": "group"})
            text = full[: rng.randint(30, len(full) - 10)]
        elif kind == "non_object":
            text = rng.choice(('"call ended"', "null", "42", '"EOF"'))
        elif kind == "unknown_shape":
            text = dumps({"type": "call.hangup", "payload": {"uuid": self.ids.uuid(), "status": "completed",
                                                             "duration": str(rng.randint(5, 300))},
                          "timestamp": iso(e.t)})
        elif kind == "code_is_object":
            text = dumps({"ts": iso(e.t), "vendor": "acs", "code": {"value": 486, "text": "busy"},
                          "call_id": self.ids.uuid()})
        elif kind == "livekit_participant_joined":
            sid, room_name = self.livekit_room()
            text = dumps({"event": "participant_joined",
                          "room": {"sid": sid, "name": room_name, "creationTime": str(int(e.t) - 30),
                                   "numParticipants": 2},
                          "participant": {"sid": "PA_" + self.ids.b62(12), "identity": f"user-{rng.randint(1, 400)}",
                                          "state": "ACTIVE", "joinedAt": str(int(e.t)), "version": 2},
                          "id": "EV_" + self.ids.b62(12), "createdAt": str(int(e.t))})
        else:  # pragma: no cover - a typo in a scenario
            raise ValueError(kind)
        self.flush(before=e.t)
        self.emit(e.t, text)
        self.stats["invalid_lines"] += 1
        self.stats["invalid_elements"] += 1
        kinds = self.stats["invalid_kinds"]
        kinds[kind] = kinds.get(kind, 0) + 1


def build(s: Scenario) -> tuple[list[str], dict[str, Any]]:
    """The lines of a scenario's capture and what was planted in it."""
    rng = random.Random(s.seed)
    events = plan(s, rng)
    r = Renderer(s, random.Random(s.seed + 1))
    for e in events:
        e.t = round(T0 + e.t, 3)
        r.render(e)
    r.flush()
    lines = [text for _t, _o, text in sorted(r.lines, key=lambda x: (x[0], x[1]))]
    st = r.stats
    st["lines"] = len(lines)
    st["start"] = T0
    st["span_s"] = s.span_s
    st["incident"] = {"start": T0 + s.incident_start, "end": T0 + s.incident_end, "events": st["incident"],
                      "reason": INCIDENT_REASON}
    st["first_seen"] = {"reason": FIRST_SEEN_REASON, "events": st["first_seen"], "first": T0 + s.first_seen_times[0]}
    return lines, st


def write(s: Scenario, out_dir: Path) -> Path:
    lines, _stats = build(s)
    path = out_dir / s.filename
    path.write_bytes(("\n".join(lines) + "\n").encode("ascii"))
    return path


def story(s: Scenario) -> str:
    lines, st = build(s)
    size = len(("\n".join(lines) + "\n").encode())
    out = [f"{s.filename}: {st['lines']} lines, {st['events']} events, {size / 1024:.0f} KiB, "
           f"{st['events'] / s.span_s:.2f} events/s over {s.span_s:.0f} s"]
    out.append(f"  by vendor: {json.dumps(dict(sorted(st['by_vendor'].items())))}")
    out.append(f"  envelope {st['envelope']} / native {st['native']}; by format: "
               f"{json.dumps(dict(sorted(st['by_format'].items())))}")
    inc = st["incident"]
    out.append(f"  incident {INCIDENT_REASON}: {inc['events']} events, {iso(inc['start'])} - {iso(inc['end'])}")
    fs = st["first_seen"]
    out.append(f"  first seen {FIRST_SEEN_REASON}: {fs['events']} events from {iso(fs['first'])}")
    out.append(f"  unknown {st['unknown']} {json.dumps(dict(sorted(st['unknown_by_vendor'].items())))}, "
               f"no reason {st['no_reason']} {json.dumps(dict(sorted(st['no_reason_by_vendor'].items())))}")
    out.append(f"  injection attempts {st['injection']}; invalid lines {st['invalid_lines']} "
               f"{json.dumps(dict(sorted(st['invalid_kinds'].items())))}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", type=Path, default=ROOT / "fixtures")
    p.add_argument("--check", action="store_true", help="compare with the files in --out-dir instead of writing")
    p.add_argument("--story", action="store_true", help="print what each capture contains")
    args = p.parse_args(argv)
    if args.story:
        for s in SCENARIOS:
            print(story(s))
        return 0
    if args.check:
        bad = 0
        for s in SCENARIOS:
            lines, _ = build(s)
            want = ("\n".join(lines) + "\n").encode("ascii")
            path = args.out_dir / s.filename
            if not path.exists() or path.read_bytes() != want:
                print(f"{path}: differs from a fresh run of {Path(__file__).name}", file=sys.stderr)
                bad += 1
        return 1 if bad else 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for s in SCENARIOS:
        print(write(s, args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
