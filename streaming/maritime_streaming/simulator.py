"""Deterministic fleet simulator: the platform's default source.

A seeded fleet of merchant ships and small craft sails great-circle legs between the
shipped ports, stays in port between legs and reports like real AIS transponders
(intervals by speed, ITU-R M.1371 Annex 1 table). Alongside positions it emits static
data, engine and weather sensor readings driven by a hidden degradation process that
ends in recorded maintenance events, departure/arrival events with scheduled and
actual times, and daily fuel reports with a line per fuel (main engine on HFO or LNG,
generators on MGO), each line carrying the day's distance. A configurable share of bad
records (corrupt JSON, out-of-range values, duplicates, out-of-order and late events)
exercises the quarantine paths downstream. Same seed and arguments, same events.

`history_hours` prepends weeks of engine history: before `start` the same vessels send
only engine readings and maintenance events (what a maintenance model trains on), and
their engines go into the live run as worn as the history left them.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

from maritimeiq import cii
from maritimeiq.events import TOPIC_OF, make_event
from maritimeiq.geo import haversine_nm, initial_bearing_deg, intermediate_point

# (IMO CII ship type, AIS ship type code, DWT range, service speed range kn, admiralty coefficient, share)
MERCHANT_TYPES = [
    ("container_ship", 71, (15_000, 120_000), (18.0, 22.0), 450.0, 0.30),
    ("bulk_carrier", 70, (30_000, 180_000), (12.5, 14.5), 550.0, 0.25),
    ("tanker", 80, (40_000, 160_000), (13.0, 15.0), 530.0, 0.20),
    ("general_cargo", 70, (4_000, 25_000), (11.0, 14.0), 290.0, 0.15),
    ("lng_carrier", 84, (70_000, 100_000), (17.0, 19.5), 480.0, 0.05),
    ("ro_ro_passenger", 60, (3_000, 12_000), (18.0, 24.0), 380.0, 0.05),
]
# Operating speed as a share of design speed (slow steaming). With these ranges a simulated
# fleet's attained CII spreads around the MEPC.353(78) reference lines, which were fitted to
# the 2019 fleet's IMO DCS data: mostly C and D, some A, B and E.
OPERATING_SPEED_SHARE = {
    "container_ship": (0.67, 0.84),
    "bulk_carrier": (0.85, 0.98),
    "tanker": (0.88, 1.0),
    "general_cargo": (0.88, 1.0),
    "lng_carrier": (0.88, 1.0),
    "ro_ro_passenger": (0.78, 0.92),
}
SMALL_CRAFT_TYPES = [(30, "fishing"), (37, "pleasure"), (52, "tug")]
FLAG_MIDS = [219, 257, 265, 211, 244, 636, 538, 563, 477, 353, 229, 215, 255, 311, 413]
NAME_WORDS = [
    "NORD",
    "STAR",
    "OCEAN",
    "BALTIC",
    "ATLANTIC",
    "MAERSK",
    "HAVEN",
    "SEA",
    "WIND",
    "AURORA",
    "POLAR",
    "VIKING",
    "CORAL",
    "PACIFIC",
    "EAGLE",
    "DAWN",
    "SPIRIT",
    "PIONEER",
    "TRADER",
    "EXPRESS",
]
SFOC_G_KWH = {"HFO": 175.0, "MGO": 185.0, "LNG": 155.0}  # slow-speed two-stroke, Fourth IMO GHG Study order
# Generators and boilers: an assumed load of 2 % of MCR in every phase, at the Fourth IMO GHG
# Study auxiliary SFC_base (maritimeiq.cii). The fleet's calibration (OPERATING_SPEED_SHARE)
# rests on it; the AIS estimate uses the Study's Table 17 demand instead.
AUXILIARY_SHARE_OF_MCR = 0.02
FUEL_REPORT_MIN_GT = 5000  # IMO DCS / EU MRV apply from 5,000 GT
BAD_KINDS = ("corrupt_json", "out_of_range", "duplicate", "out_of_order", "late")


@dataclass(frozen=True)
class Port:
    unlocode: str
    name: str
    lat: float
    lon: float


def load_ports() -> list[Port]:
    text = resources.files("maritimeiq.reference").joinpath("ports.csv").read_text()
    return [
        Port(r["unlocode"], r["name"], float(r["latitude"]), float(r["longitude"]))
        for r in csv.DictReader(text.splitlines())
    ]


@dataclass(frozen=True)
class RawRecord:
    """A record that is not a valid event (a deliberately corrupt one): raw bytes on a topic."""

    topic: str
    key: str | None
    value: bytes
    event_type: str
    event_time: datetime


@dataclass
class Vessel:
    mmsi: str
    imo: int | None
    name: str
    call_sign: str
    ais_class: str
    ship_type: int
    ship_category: str | None
    dwt: float
    gt: float
    length: int
    beam: int
    service_speed: float  # design speed, at 85 % MCR
    mcr_kw: float
    fuel_type: str
    files_fuel_reports: bool
    health: float
    wear_rate: float  # health gained per running hour at the operating speed's load
    running_hours: float = 0.0
    operating_speed: float = 0.0  # the speed legs are planned at
    rng: random.Random = field(default_factory=random.Random, repr=False)


def _imo_number(rng: random.Random) -> int:
    # IMO number: six digits and a check digit = sum(digit_i * (7 - i)) mod 10.
    digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(5)]
    check = sum(d * w for d, w in zip(digits, range(7, 1, -1))) % 10
    return int("".join(map(str, digits)) + str(check))


class FleetSimulator:
    def __init__(
        self,
        vessels: int = 200,
        hours: float = 24.0,
        seed: int = 42,
        start: datetime | None = None,
        bad_rate: float = 0.0,
        interval_scale: float = 1.0,
        sensor_interval_min: float = 15.0,
        history_hours: float = 0.0,
    ):
        if vessels <= 0 or hours <= 0 or interval_scale <= 0 or sensor_interval_min <= 0:
            raise ValueError("vessels, hours, interval_scale and sensor_interval_min must be positive")
        if history_hours < 0:
            raise ValueError("history_hours must not be negative")
        if not 0.0 <= bad_rate < 1.0:
            raise ValueError("bad_rate must be in [0, 1)")
        self.seed = seed
        self.start = (start or datetime(2026, 11, 1, tzinfo=UTC)).astimezone(UTC)
        self.end = self.start + timedelta(hours=hours)
        self.bad_rate = bad_rate
        self.interval_scale = interval_scale
        self.sensor_interval = timedelta(minutes=sensor_interval_min)
        self.history_start = self.start - timedelta(hours=history_hours)
        self.ports = load_ports()
        self.fleet = self._build_fleet(vessels)

    # -- fleet --------------------------------------------------------------------------
    def _build_fleet(self, count: int) -> list[Vessel]:
        rng = random.Random(self.seed)
        fleet, used = [], set()
        for index in range(count):
            vrng = random.Random(f"{self.seed}-{index}")
            while True:
                mmsi = f"{rng.choice(FLAG_MIDS)}{rng.randint(0, 999_999):06d}"
                if mmsi not in used:
                    used.add(mmsi)
                    break
            name = f"{vrng.choice(NAME_WORDS)} {vrng.choice(NAME_WORDS)} {vrng.randint(1, 9)}"
            if vrng.random() < 0.9:
                category, code, dwt_range, speed_range, admiralty, _ = vrng.choices(
                    MERCHANT_TYPES, weights=[t[-1] for t in MERCHANT_TYPES]
                )[0]
                dwt = round(vrng.uniform(*dwt_range), -2)
                speed = round(vrng.uniform(*speed_range), 1)
                # Admiralty formula: P = displacement^(2/3) * V^3 / C, displacement ~ 1.3 DWT.
                mcr = round((1.3 * dwt) ** (2 / 3) * speed**3 / admiralty / 0.85, -1)  # 85 % MCR at service speed
                gt = round(dwt * (0.9 if category in ("container_ship", "ro_ro_passenger") else 0.55), -1)
                length = int(5.8 * dwt ** (1 / 3) + 20)
                fuel = "LNG" if category == "lng_carrier" else ("MGO" if category == "ro_ro_passenger" else "HFO")
                vessel = Vessel(
                    mmsi,
                    _imo_number(vrng),
                    name,
                    f"{chr(65 + index % 26)}{vrng.randint(1000, 9999)}",
                    "A",
                    code,
                    category,
                    dwt,
                    gt,
                    length,
                    max(10, int(length / 6.5)),
                    speed,
                    mcr,
                    fuel,
                    files_fuel_reports=gt >= FUEL_REPORT_MIN_GT and vrng.random() < 0.85,
                    health=vrng.uniform(0.0, 0.5),
                    wear_rate=vrng.uniform(0.004, 0.02),
                    rng=vrng,
                )
                vessel.operating_speed = round(speed * vrng.uniform(*OPERATING_SPEED_SHARE[category]), 1)
            else:
                code, _ = vrng.choice(SMALL_CRAFT_TYPES)
                vessel = Vessel(
                    mmsi,
                    None,
                    name,
                    "",
                    "B",
                    code,
                    None,
                    0.0,
                    0.0,
                    vrng.randint(10, 25),
                    vrng.randint(3, 7),
                    round(vrng.uniform(7.0, 12.0), 1),
                    0.0,
                    "MGO",
                    files_fuel_reports=False,
                    health=0.0,
                    wear_rate=0.0,
                    rng=vrng,
                )
                vessel.operating_speed = vessel.service_speed
            fleet.append(vessel)
        return fleet

    # -- events -------------------------------------------------------------------------
    def events(self) -> Iterator[dict[str, Any] | RawRecord]:
        """Every event of the run (history first) in event-time order, bad records interleaved."""
        keyed = [
            (((e["event_time"], i, n), e) for n, e in enumerate(self._vessel_events(v)))
            for i, v in enumerate(self.fleet)
        ]
        merged = heapq.merge(*keyed, key=lambda item: item[0])
        bad_rng = random.Random(f"{self.seed}-bad")
        delayed: list[tuple[str, int, dict[str, Any]]] = []  # (release time, n, event)
        counter = 0
        for (when, _, _), event in merged:
            while delayed and delayed[0][0] <= when:
                yield heapq.heappop(delayed)[2]
            if self.bad_rate and bad_rng.random() < self.bad_rate:
                kind = bad_rng.choice(BAD_KINDS)
                counter += 1
                if kind == "corrupt_json":
                    text = json.dumps(event)
                    yield RawRecord(
                        TOPIC_OF[event["event_type"]],
                        event.get("mmsi"),
                        text[: bad_rng.randint(1, len(text) - 1)].encode(),
                        event["event_type"],
                        _parse(event["event_time"]),
                    )
                    continue
                if kind == "out_of_range" and event["event_type"] == "ais_position":
                    event = {
                        **event,
                        "latitude": 91.0 + bad_rng.uniform(1, 50),
                        "sog_kn": 150.0 + bad_rng.uniform(0, 100),
                    }
                elif kind == "duplicate":
                    yield event
                elif kind in ("out_of_order", "late"):
                    # Held back: minutes (out of order) or hours (late) after its event time.
                    hold = (
                        timedelta(minutes=bad_rng.randint(2, 20))
                        if kind == "out_of_order"
                        else timedelta(hours=bad_rng.randint(2, 12))
                    )
                    release = _iso(_parse(event["event_time"]) + hold)
                    heapq.heappush(delayed, (release, counter, event))
                    continue
            yield event
        while delayed:
            yield heapq.heappop(delayed)[2]

    def _vessel_events(self, v: Vessel) -> Iterator[dict[str, Any]]:
        yield from self._engine_history(v)
        rng = v.rng
        port = rng.choice(self.ports)
        now = self.start
        yield self._static(v, now, draught=None)
        at_sea = rng.random() < 0.6
        if at_sea:  # start mid-leg from a previous port
            origin = self._next_port(rng, port)
            leg_progress = rng.uniform(0.1, 0.8)
        next_fuel_day = self.start.date()
        day_totals: dict[str, Any] = {"fuel_t": {}, "distance_nm": 0.0, "hours": 0.0}
        last_sensor = now - self.sensor_interval
        voyage_n = 0
        while now < self.end:
            if not at_sea:
                departure_scheduled = now + timedelta(hours=rng.uniform(6, 30))
                departure = departure_scheduled + timedelta(minutes=rng.choice([0, 0, 0, 10, 30, 90, 240]))
                # Port stay: moored, reporting every 3 minutes (ITU-R M.1371 Class A, moored).
                previous = now
                for fix_time in self._fix_times(v, now, departure, sog=0.0):
                    # Generators and boilers run at berth; a step across midnight is split as at sea.
                    step_h = (fix_time - previous).total_seconds() / 3600.0
                    before_midnight = min(step_h, self._hours_to_midnight(previous))
                    self._credit(v, day_totals, 0.0, 0.0, before_midnight, underway=False)
                    yield from self._fuel_due(v, fix_time, next_fuel_day, day_totals)
                    self._credit(v, day_totals, 0.0, 0.0, step_h - before_midnight, underway=False)
                    previous = fix_time
                    if fix_time.date() > next_fuel_day:
                        next_fuel_day = fix_time.date()
                    yield from self._sensors_due(v, fix_time, last_sensor, load=0.0, sog=0.0)
                    if fix_time - last_sensor >= self.sensor_interval:
                        last_sensor = fix_time
                    jitter = rng.uniform(-0.0003, 0.0003)
                    yield self._position(v, fix_time, port.lat + jitter, port.lon + jitter, 0.0, None, 5)
                if departure >= self.end:
                    return
                origin, destination = port, self._next_port(rng, port)
                voyage_n += 1
                voyage_id = f"{v.mmsi}-{voyage_n:04d}-{_iso(departure_scheduled)[:10]}"
                now = departure
                yield from self._fuel_due(v, now, next_fuel_day, day_totals)
                if now.date() > next_fuel_day:
                    next_fuel_day = now.date()
                distance = haversine_nm(origin.lat, origin.lon, destination.lat, destination.lon)
                eta_scheduled = departure_scheduled + timedelta(hours=distance / v.operating_speed)
                yield make_event(
                    "voyage_event",
                    "simulator",
                    now,
                    mmsi=v.mmsi,
                    voyage_id=voyage_id,
                    kind="departure",
                    port_unlocode=origin.unlocode,
                    scheduled_time=departure_scheduled,
                    actual_time=now,
                )
                yield self._static(
                    v, now, draught=round(rng.uniform(6.0, 14.0), 1), destination=destination.name, eta=eta_scheduled
                )
                start_progress = 0.0
            else:
                destination = port
                voyage_n += 1
                voyage_id = f"{v.mmsi}-{voyage_n:04d}-{_iso(now)[:10]}"
                distance = haversine_nm(origin.lat, origin.lon, destination.lat, destination.lon)
                start_progress = leg_progress
                eta_scheduled = now + timedelta(hours=distance * (1 - leg_progress) / v.operating_speed)
                at_sea = False
            # The leg: speed varies with weather and the vessel's choices.
            speed = v.operating_speed * rng.uniform(0.85, 1.02)
            sailed = distance * start_progress
            bearing_noise = rng.uniform(-2, 2)
            t = now
            while sailed < distance and t < self.end:
                wind = self._wind(v, t)
                # Reported with AIS resolution (0.1 kn); the interval and the track use the same value.
                sog = round(max(3.0, speed - 0.08 * max(0.0, wind - 15.0) + rng.gauss(0, 0.3)), 1)
                window_end = t + timedelta(minutes=10)
                fix_times = self._fix_times(v, t, window_end, sog=sog)
                if not fix_times:  # reporting interval longer than the window: carry on sailing
                    step_h = (window_end - t).total_seconds() / 3600.0
                    sailed = min(distance, sailed + sog * step_h)
                    t = window_end
                    continue
                for fix_time in fix_times:
                    step_h = (fix_time - t).total_seconds() / 3600.0
                    if sailed + sog * step_h >= distance:  # the berth is reached between two reports
                        step_h = (distance - sailed) / sog
                        fix_time = t + timedelta(hours=step_h)
                    sailed = min(distance, sailed + sog * step_h)
                    lat, lon = intermediate_point(
                        origin.lat, origin.lon, destination.lat, destination.lon, sailed / distance if distance else 1.0
                    )
                    cog = initial_bearing_deg(lat, lon, destination.lat, destination.lon) if sailed < distance else 0.0
                    load = self._load(v, sog) if v.mcr_kw else 0.0
                    self._wear(v, load, step_h)
                    # A step across midnight is credited to each day for its own part.
                    before_midnight = min(step_h, self._hours_to_midnight(t))
                    self._credit(v, day_totals, sog, load, before_midnight, underway=True)
                    yield from self._fuel_due(v, fix_time, next_fuel_day, day_totals)
                    self._credit(v, day_totals, sog, load, step_h - before_midnight, underway=True)
                    if fix_time.date() > next_fuel_day:
                        next_fuel_day = fix_time.date()
                    yield from self._sensors_due(v, fix_time, last_sensor, load=load, sog=sog)
                    if fix_time - last_sensor >= self.sensor_interval:
                        last_sensor = fix_time
                    if v.health >= 1.0:
                        yield from self._maintenance(v, fix_time, "corrective", "engine fault: alarm on vibration")
                    yield self._position(v, fix_time, lat, lon, sog, (cog + bearing_noise) % 360.0, 0)
                    t = fix_time
                    if sailed >= distance or t >= self.end:
                        break
            if sailed < distance:
                return
            now = t
            yield make_event(
                "voyage_event",
                "simulator",
                now,
                mmsi=v.mmsi,
                voyage_id=voyage_id,
                kind="arrival",
                port_unlocode=destination.unlocode,
                scheduled_time=eta_scheduled,
                actual_time=now,
            )
            if v.mcr_kw and v.running_hours > 1500 and rng.random() < 0.5:
                yield from self._maintenance(v, now, "planned", "scheduled overhaul on arrival")
            port = destination

    def _engine_history(self, v: Vessel) -> Iterator[dict[str, Any]]:
        """Engine readings and maintenance events from `history_start` to `start`.

        Port stays and sea legs follow the live run's rules, but legs are sailed without a
        track, in steps of one reading interval: no positions, static data, voyage events or
        fuel reports, so weeks of history cost little. The engine wears, reads and fails as
        it would live, and its state carries into the live run.
        """
        if not v.mcr_kw or self.history_start >= self.start:
            return
        rng, t = v.rng, self.history_start
        step_h = self.sensor_interval.total_seconds() / 3600.0
        last_sensor = t - self.sensor_interval
        port = rng.choice(self.ports)
        at_sea = rng.random() < 0.6
        progress = rng.uniform(0.1, 0.8) if at_sea else 0.0  # the first leg started before the history
        while t < self.start:
            if not at_sea:
                stay_h = rng.uniform(6, 30) + rng.choice([0, 0, 0, 10, 30, 90, 240]) / 60.0
                departure = min(self.start, t + timedelta(hours=stay_h))
                while t < departure:
                    t = min(departure, t + self.sensor_interval)
                    if t < self.start and t - last_sensor >= self.sensor_interval:
                        yield self._reading(v, t, load=0.0)
                        last_sensor = t
                at_sea = True
                continue
            destination = self._next_port(rng, port)
            distance = haversine_nm(port.lat, port.lon, destination.lat, destination.lon)
            sailed, progress = distance * progress, 0.0
            speed = v.operating_speed * rng.uniform(0.85, 1.02)
            while sailed < distance and t < self.start:
                sog = round(max(3.0, speed - 0.08 * max(0.0, self._wind(v, t) - 15.0) + rng.gauss(0, 0.3)), 1)
                hours = min(step_h, (distance - sailed) / sog, (self.start - t).total_seconds() / 3600.0)
                sailed = min(distance, sailed + sog * hours)
                t += timedelta(hours=hours)
                load = self._load(v, sog)
                self._wear(v, load, hours)
                if t >= self.start:
                    break
                if t - last_sensor >= self.sensor_interval:
                    yield self._reading(v, t, load=load)
                    last_sensor = t
                if v.health >= 1.0:
                    yield from self._maintenance(v, t, "corrective", "engine fault: alarm on vibration")
            if sailed >= distance and t < self.start:
                port, at_sea = destination, False
                if v.running_hours > 1500 and rng.random() < 0.5:
                    yield from self._maintenance(v, t, "planned", "scheduled overhaul on arrival")

    # -- pieces -------------------------------------------------------------------------
    def _next_port(self, rng: random.Random, here: Port) -> Port:
        # Short-sea and regional legs: the nearest ports within 2,500 nm, else the nearest three.
        by_distance = sorted(
            (haversine_nm(here.lat, here.lon, p.lat, p.lon), p.unlocode, p)
            for p in self.ports
            if p.unlocode != here.unlocode
        )
        near = [p for d, _, p in by_distance if d <= 2500] or [p for _, _, p in by_distance[:3]]
        return rng.choice(near[:8])

    def _fix_times(self, v: Vessel, start: datetime, end: datetime, sog: float) -> list[datetime]:
        # ITU-R M.1371-5 Annex 1 Table 1: Class A 10 s at 0-14 kn, 6 s at 14-23 kn, 2 s above,
        # 3 min moored or at anchor; Class B (CS) 30 s above 2 kn, 3 min at or below.
        if v.ais_class == "A":
            interval = 180.0 if sog < 0.5 else (10.0 if sog <= 14 else (6.0 if sog <= 23 else 2.0))
        else:
            interval = 30.0 if sog > 2 else 180.0
        step = timedelta(seconds=interval * self.interval_scale)
        times, t = [], start + step
        while t <= end and t < self.end:
            times.append(t)
            t += step
        return times

    def _position(
        self, v: Vessel, when: datetime, lat: float, lon: float, sog: float, cog: float | None, status: int
    ) -> dict[str, Any]:
        return make_event(
            "ais_position",
            "simulator",
            when,
            mmsi=v.mmsi,
            msg_type=1 if v.ais_class == "A" else 18,
            ais_class=v.ais_class,
            latitude=round(lat, 6),
            longitude=round(lon, 6),
            sog_kn=sog,
            cog_deg=None if cog is None else round(cog, 1),
            heading_deg=None if cog is None else int(round(cog)) % 360,
            nav_status=status if v.ais_class == "A" else None,
            position_accuracy=True,
            utc_second=when.second,
        )

    def _static(
        self,
        v: Vessel,
        when: datetime,
        draught: float | None,
        destination: str | None = None,
        eta: datetime | None = None,
    ) -> dict[str, Any]:
        bow = int(v.length * 0.85)
        return make_event(
            "vessel_static",
            "simulator",
            when,
            mmsi=v.mmsi,
            msg_type=5 if v.ais_class == "A" else 24,
            imo=v.imo,
            call_sign=v.call_sign or None,
            name=v.name,
            ship_type=v.ship_type,
            to_bow_m=bow,
            to_stern_m=v.length - bow,
            to_port_m=v.beam // 2,
            to_starboard_m=v.beam - v.beam // 2,
            length_m=float(v.length),
            beam_m=float(v.beam),
            draught_m=draught,
            destination=destination,
            eta=None if eta is None else eta.strftime("%m-%dT%H:%M"),
            ais_class=v.ais_class,
            ship_category=v.ship_category,
            dwt_t=v.dwt or None,
            gt=v.gt or None,
            service_speed_kn=v.service_speed,
            mcr_kw=v.mcr_kw or None,
            fuel_type=v.fuel_type,
        )

    def _wind(self, v: Vessel, when: datetime) -> float:
        # Smooth weather per vessel: a 2-day cycle plus a vessel-specific phase.
        phase = int(v.mmsi) % 97
        hours = (when - self.start).total_seconds() / 3600.0
        return max(0.0, 14.0 + 10.0 * math.sin((hours + phase) / 48.0 * 2 * math.pi))

    def _wear(self, v: Vessel, load: float, hours: float) -> None:
        v.running_hours += hours if load > 0 else 0.0
        v.health += v.wear_rate * load / self._load(v, v.operating_speed) * hours

    @staticmethod
    def _load(v: Vessel, speed: float) -> float:
        # Propeller law: power ~ speed^3, 85 % MCR at design speed.
        return min(0.98, (speed / v.service_speed) ** 3 * 0.85)

    def _fuel_t(self, v: Vessel, load: float, hours: float) -> float:
        # Main engine: load x MCR x hours x SFOC; a worn engine burns up to 8 % more.
        sfoc = SFOC_G_KWH[v.fuel_type] * (1 + 0.08 * min(1.0, v.health))
        return load * v.mcr_kw * hours * sfoc / 1e6

    def _sensors_due(
        self, v: Vessel, when: datetime, last: datetime, load: float, sog: float
    ) -> Iterator[dict[str, Any]]:
        if v.mcr_kw and when - last >= self.sensor_interval:
            yield self._reading(v, when, load)

    def _reading(self, v: Vessel, when: datetime, load: float) -> dict[str, Any]:
        rng, h = v.rng, min(1.2, v.health)
        wind = self._wind(v, when)
        wave = 0.0248 * (wind * 0.5144) ** 2  # fully developed sea: Hs = 0.0248 U10^2 (U10 in m/s)
        running = load > 0
        return make_event(
            "environmental_reading",
            "simulator",
            when,
            mmsi=v.mmsi,
            engine_temp_c=round((320 + 70 * load + 60 * h * h) * running + 40 * (not running) + rng.gauss(0, 4), 1),
            vibration_rms_mm_s=round(max(0.1, (2.0 + 3.0 * load + 9.0 * h * h) * running + rng.gauss(0, 0.4)), 2),
            lube_oil_pressure_bar=round(max(0.5, (4.6 - 1.8 * h * h) if running else 0.6) + rng.gauss(0, 0.08), 2),
            fuel_flow_kg_h=round(self._fuel_t(v, load, 1.0) * 1000, 1),
            engine_load_pct=round(load * 100, 1),
            running_hours=round(v.running_hours, 1),
            wind_speed_kn=round(max(0.0, wind + rng.gauss(0, 1.5)), 1),
            wind_dir_deg=round((int(v.mmsi) % 360 + 30 * math.sin(when.timestamp() / 86400)) % 360, 0),
            wave_height_m=round(max(0.1, wave + rng.gauss(0, 0.2)), 2),
        )

    def _maintenance(self, v: Vessel, when: datetime, kind: str, reason: str) -> Iterator[dict[str, Any]]:
        digest = hashlib.sha1(f"{v.mmsi}-{_iso(when)}-{kind}".encode()).hexdigest()[:12]
        yield make_event(
            "maintenance_event",
            "simulator",
            when,
            mmsi=v.mmsi,
            maintenance_id=digest,
            kind=kind,
            component="main_engine",
            reason=reason,
        )
        v.health = v.rng.uniform(0.0, 0.1)
        v.running_hours = 0.0

    @staticmethod
    def _hours_to_midnight(moment: datetime) -> float:
        midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        return max(0.0, (midnight - moment).total_seconds() / 3600.0)

    def _credit(self, v: Vessel, totals: dict[str, Any], sog: float, load: float, hours: float, underway: bool) -> None:
        fuel = totals["fuel_t"]
        if underway:
            totals["distance_nm"] += sog * hours
            totals["hours"] += hours
            fuel[v.fuel_type] = fuel.get(v.fuel_type, 0.0) + self._fuel_t(v, load, hours)
        # Main engine on its own fuel (residual HFO, or LNG), generators and boilers on distillate.
        auxiliary_t = AUXILIARY_SHARE_OF_MCR * v.mcr_kw * hours * cii.AUXILIARY_ENGINE_SFC_G_PER_KWH / 1e6
        fuel[cii.AUXILIARY_FUEL] = fuel.get(cii.AUXILIARY_FUEL, 0.0) + auxiliary_t

    def _fuel_due(self, v: Vessel, when: datetime, day: date, totals: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if when.date() <= day:
            return
        if v.files_fuel_reports:
            # One report per vessel-day with a line per fuel (IMO DCS / EU MRV style): distance and
            # hours belong to the day, so every line of the day carries the same values.
            sent = datetime.combine(when.date(), datetime.min.time(), tzinfo=UTC)
            for fuel_type, mass in totals["fuel_t"].items():
                if round(mass, 3) > 0:
                    yield make_event(
                        "fuel_report",
                        "simulator",
                        sent,
                        mmsi=v.mmsi,
                        report_date=day,
                        fuel_type=fuel_type,
                        fuel_consumed_t=round(mass, 3),
                        distance_nm=round(totals["distance_nm"], 2),
                        hours_underway=round(totals["hours"], 2),
                    )
        totals.update(fuel_t={}, distance_nm=0.0, hours=0.0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
