"""The CI hygiene checks: a planted secret fails the scan; vulnerabilities fail the audit
unless an exception explains them, and packages nobody audited are reported as such."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("ops_audit", ROOT / "ops" / "audit.py")
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)


def _repo(path: Path, files: dict[str, str]) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    for name, text in files.items():
        (path / name).write_text(text)
    subprocess.run(["git", "add", "."], cwd=path, check=True)
    return path


def test_planted_secret_fails_the_scan_and_clean_tree_passes(tmp_path):
    clean = _repo(tmp_path / "clean", {"app.py": "TOKEN_ENV = 'MARITIME_TOKEN'\n"})
    baseline = tmp_path / "empty.baseline"
    baseline.write_text(
        subprocess.run(
            [str(audit.BIN / "detect-secrets"), "scan"], cwd=clean, check=True, capture_output=True, text=True
        ).stdout
    )
    assert audit.scan_secrets(clean, baseline)

    # The shape of an AWS access key id; not a real key.
    leaky = _repo(tmp_path / "leaky", {"app.py": "key = 'AKIAZ7Q3MPLX4TRW9KDE'\n"})
    assert not audit.scan_secrets(leaky, baseline)


def test_a_reviewed_finding_that_moved_passes_and_the_baseline_is_left_alone(tmp_path):
    # A fake credential, reviewed into the baseline below.
    fake = "password = 'correct-horse-battery-staple-42'\n"  # pragma: allowlist secret
    repo = _repo(tmp_path / "repo", {"app.py": fake})
    baseline = tmp_path / "reviewed.baseline"
    baseline.write_text(
        subprocess.run(
            [str(audit.BIN / "detect-secrets"), "scan"], cwd=repo, check=True, capture_output=True, text=True
        ).stdout
    )
    assert json.loads(baseline.read_text())["results"]["app.py"][0]["line_number"] == 1
    reviewed = baseline.read_text()

    (repo / "app.py").write_text("import os\n\n\n" + fake)
    assert audit.scan_secrets(repo, baseline)
    assert baseline.read_text() == reviewed

    # The shape of an AWS access key id; not a real key.
    (repo / "app.py").write_text(fake + "token = 'AKIAZ7Q3MPLX4TRW9KDE'\n")  # pragma: allowlist secret
    assert not audit.scan_secrets(repo, baseline)


def test_the_project_tree_has_no_secret_outside_the_reviewed_baseline():
    assert audit.scan_secrets()


def _report(vulns: list[dict], skipped: int = 0) -> dict:
    deps = [{"name": "somepkg", "version": "1.0", "vulns": vulns}]
    deps += [{"name": f"other{i}", "skip_reason": "not found"} for i in range(skipped)]
    return {"dependencies": deps, "fixes": []}


VULN = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "fix_versions": ["1.1"], "description": "x"}


def test_unexplained_vulnerability_fails_and_an_explained_one_passes(capsys):
    assert not audit.judge_report(_report([VULN]), {})
    assert "UNEXPLAINED" in capsys.readouterr().out
    assert audit.judge_report(_report([VULN]), {"CVE-2099-0001": "not reachable: feature unused"})
    assert "explained: not reachable" in capsys.readouterr().out


def test_packages_that_were_not_audited_are_reported_not_passed_silently(capsys):
    assert audit.judge_report(_report([], skipped=3), {})
    out = capsys.readouterr().out
    assert "1 of 4 pinned packages audited" in out
    assert "NOT audited" in out
