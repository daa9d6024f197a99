"""Closest point of approach between two vessels on straight courses (no Spark).

The standard ARPA definition (IMO Res. A.823(19) performance standard for automatic
radar plotting aids; DOMAIN.md "Collision risk (CPA/TCPA)"): in a local east/north
frame around own ship, p is the target's position relative to own ship and
v = v_target − v_own with v = SOG·(sin COG, cos COG). Then
TCPA = −(p·v)/|v|² (hours; negative: the vessels are already drawing apart) and
DCPA = |p + v·TCPA|. With |v| = 0 the range never changes: TCPA is undefined, DCPA = |p|.

The frame is equirectangular around the pair's mean latitude with the haversine radius
(R = 6371.0088 km): a good approximation at the few-mile ranges where CPA matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from maritimeiq.geo import EARTH_RADIUS_KM, KM_PER_NM

EARTH_RADIUS_NM = EARTH_RADIUS_KM / KM_PER_NM
# Alert thresholds: a CPA under half a mile within the next 20 minutes is a close-quarters
# situation worth a watch officer's attention (typical ARPA CPA/TCPA alarm settings).
ALERT_DCPA_NM = 0.5
ALERT_TCPA_MIN = 20.0


@dataclass(frozen=True)
class Fix:
    latitude: float
    longitude: float
    sog_kn: float
    cog_deg: float


@dataclass(frozen=True)
class Approach:
    range_nm: float
    tcpa_min: float | None  # None when the relative velocity is zero
    dcpa_nm: float


def velocity_kn(sog_kn: float, cog_deg: float) -> tuple[float, float]:
    """(east, north) components of a course and speed over ground."""
    course = math.radians(cog_deg)
    return sog_kn * math.sin(course), sog_kn * math.cos(course)


def wrap_longitude(delta_deg: float) -> float:
    """A longitude difference in [-180, 180), so pairs across the antimeridian stay close."""
    return (delta_deg + 180.0) % 360.0 - 180.0


def relative_position_nm(own: Fix, target: Fix) -> tuple[float, float]:
    """(east, north) of the target from own ship, equirectangular around the mean latitude."""
    mean_lat = math.radians((own.latitude + target.latitude) / 2)
    x = math.radians(wrap_longitude(target.longitude - own.longitude)) * math.cos(mean_lat) * EARTH_RADIUS_NM
    y = math.radians(target.latitude - own.latitude) * EARTH_RADIUS_NM
    return x, y


def closest_approach(p: tuple[float, float], v: tuple[float, float]) -> Approach:
    """CPA of a relative position p (nm) moving with relative velocity v (kn)."""
    range_nm = math.hypot(*p)
    speed_sq = v[0] ** 2 + v[1] ** 2
    if speed_sq == 0:
        return Approach(range_nm, None, range_nm)
    tcpa_h = -(p[0] * v[0] + p[1] * v[1]) / speed_sq
    dcpa = math.hypot(p[0] + v[0] * tcpa_h, p[1] + v[1] * tcpa_h)
    return Approach(range_nm, tcpa_h * 60.0, dcpa)


def approach(own: Fix, target: Fix) -> Approach:
    own_v, target_v = velocity_kn(own.sog_kn, own.cog_deg), velocity_kn(target.sog_kn, target.cog_deg)
    return closest_approach(relative_position_nm(own, target), (target_v[0] - own_v[0], target_v[1] - own_v[1]))


def dead_reckon(fix: Fix, hours: float) -> Fix:
    """Where a fix will be after `hours` on its course and speed (same local frame)."""
    east, north = velocity_kn(fix.sog_kn, fix.cog_deg)
    latitude = fix.latitude + math.degrees(north * hours / EARTH_RADIUS_NM)
    longitude = fix.longitude + math.degrees(east * hours / (EARTH_RADIUS_NM * math.cos(math.radians(fix.latitude))))
    return Fix(latitude, wrap_longitude(longitude), fix.sog_kn, fix.cog_deg)


def is_risk(result: Approach, max_dcpa_nm: float = ALERT_DCPA_NM, max_tcpa_min: float = ALERT_TCPA_MIN) -> bool:
    """Close quarters ahead: DCPA below the limit and the CPA still to come within the horizon."""
    return result.tcpa_min is not None and 0 <= result.tcpa_min <= max_tcpa_min and result.dcpa_nm < max_dcpa_nm
