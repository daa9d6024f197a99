"""CPA/TCPA by hand: positions are placed in the local frame in nautical miles, so the
expected TCPA and DCPA follow from relative motion worked out on paper."""

from __future__ import annotations

import math

import pytest

from maritimeiq.cpa import Fix, approach, dead_reckon, is_risk, relative_position_nm

R_NM = 6371.0088 / 1.852


def at(east_nm: float, north_nm: float, sog_kn: float, cog_deg: float) -> Fix:
    """A fix `east_nm`, `north_nm` from a ship at 0°N 0°E, in the frame around the pair's mean latitude."""
    lat = math.degrees(north_nm / R_NM)
    lon = math.degrees(east_nm / (R_NM * math.cos(math.radians(lat / 2))))
    return Fix(lat, lon, sog_kn, cog_deg)


OWN_NORTH_10 = Fix(0.0, 0.0, 10.0, 0.0)


def test_head_on():
    # 4 nm apart, closing at 10 + 10 kn: they meet in 4/20 h = 12 min, on the same line.
    result = approach(OWN_NORTH_10, at(0.0, 4.0, 10.0, 180.0))
    assert result.range_nm == pytest.approx(4.0)
    assert result.tcpa_min == pytest.approx(12.0)
    assert result.dcpa_nm == pytest.approx(0.0, abs=1e-9)
    assert is_risk(result)


def test_crossing_at_right_angles():
    # Own 000° 12 kn; target 6 nm east, 7 nm north, 270° 12 kn. Relative velocity (-12, -12):
    # TCPA = (6·12 + 7·12)/288 h = 32.5 min; the target is then at (6 − 6.5, 7 − 6.5) → DCPA √0.5.
    result = approach(Fix(0.0, 0.0, 12.0, 0.0), at(6.0, 7.0, 12.0, 270.0))
    assert result.tcpa_min == pytest.approx(32.5, rel=1e-6)
    assert result.dcpa_nm == pytest.approx(math.sqrt(0.5), rel=1e-5)
    assert not is_risk(result)  # beyond the 20-minute horizon


def test_overtaking():
    # Target 1.8 nm astern, 0.3 nm to starboard, 16 kn on the same course: closes at 6 kn,
    # abeam after 1.8/6 h = 18 min, passing 0.3 nm off.
    result = approach(OWN_NORTH_10, at(0.3, -1.8, 16.0, 0.0))
    assert result.tcpa_min == pytest.approx(18.0, rel=1e-6)
    assert result.dcpa_nm == pytest.approx(0.3, rel=1e-5)
    assert is_risk(result)


def test_parallel_same_speed_has_no_tcpa():
    result = approach(OWN_NORTH_10, at(3.0, 0.0, 10.0, 0.0))
    assert result.tcpa_min is None
    assert result.dcpa_nm == pytest.approx(3.0) and result.range_nm == pytest.approx(3.0)
    assert not is_risk(result)


def test_diverging_is_no_risk():
    # The head-on pair after passing: target 4 nm astern and heading away, CPA 12 min ago.
    result = approach(OWN_NORTH_10, at(0.0, -4.0, 10.0, 180.0))
    assert result.tcpa_min == pytest.approx(-12.0)
    assert not is_risk(result)


def test_frame_wraps_the_antimeridian():
    x, y = relative_position_nm(Fix(0.0, 179.99, 0, 0), Fix(0.0, -179.99, 0, 0))
    assert x == pytest.approx(math.radians(0.02) * R_NM) and y == 0.0


def test_dead_reckoning():
    north = dead_reckon(Fix(0.0, 0.0, 10.0, 0.0), 0.5)
    assert (north.latitude, north.longitude) == pytest.approx((math.degrees(5 / R_NM), 0.0))
    # 10 nm east at 60°N, where a degree of longitude is half as long as at the equator.
    east = dead_reckon(Fix(60.0, 10.0, 10.0, 90.0), 1.0)
    assert (east.latitude, east.longitude) == pytest.approx((60.0, 10.0 + math.degrees(10 / (R_NM * 0.5))))
