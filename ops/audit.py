"""Repository hygiene checks run in CI: a secrets scan and a dependency audit.

1. Secrets: ``detect-secrets`` over every tracked file against ``.secrets.baseline``;
   a finding not in the baseline fails. Baseline entries are reviewed false positives
   (placeholders in docs, environment-variable names, fake test credentials).
2. Dependencies: ``pip-audit`` over the pinned ``requirements.txt``. A vulnerability
   fails unless ``ops/audit-exceptions.yaml`` explains it (id → reason). Packages the
   vulnerability service could not answer for are counted and named, never passed
   silently: a run that audited nothing says so.

Exit status: 0 clean, 1 unexplained finding.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BASELINE = ROOT / ".secrets.baseline"
# detect-secrets-hook's exit status when it found nothing new but updated line numbers.
BASELINE_LINES_MOVED = 3
EXCEPTIONS = ROOT / "ops" / "audit-exceptions.yaml"


def tracked_files(root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True)
    return [name for name in listed.stdout.splitlines() if (root / name).is_file()]


def scan_secrets(root: Path = ROOT, baseline: Path = BASELINE) -> bool:
    """True when every finding is in the baseline. Findings match on file, type and hashed
    value, not line: a reviewed false positive that moved passes. The hook rewrites the
    baseline it is given when lines moved, so it gets a copy and the tracked file stays as is."""
    files = [name for name in tracked_files(root) if Path(name).name != baseline.name]
    with tempfile.TemporaryDirectory(prefix="secrets-baseline-") as scratch:
        copy = Path(scratch) / baseline.name
        shutil.copyfile(baseline, copy)
        result = subprocess.run(
            [str(BIN / "detect-secrets-hook"), "--baseline", str(copy), *files],
            cwd=root,
            capture_output=True,
            text=True,
        )
    if result.returncode in (0, BASELINE_LINES_MOVED):
        print(f"secrets scan: {len(files)} tracked files, no finding outside the reviewed baseline")
        if result.returncode == BASELINE_LINES_MOVED:
            print(
                "secrets scan: reviewed findings moved; `detect-secrets scan --baseline .secrets.baseline` "
                "refreshes their line numbers"
            )
        return True
    print("secrets scan: new potential secrets (remove them, or review and add to .secrets.baseline):")
    print(result.stdout + result.stderr)
    return False


def audit_dependencies(exceptions: dict[str, str]) -> bool:
    # The lock pins every package, so no resolution is needed (--no-deps --disable-pip).
    result = subprocess.run(
        [
            str(BIN / "pip-audit"),
            "-r",
            str(ROOT / "requirements.txt"),
            "--no-deps",
            "--disable-pip",
            "--desc",
            "on",
            "-f",
            "json",
            "--progress-spinner",
            "off",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"dependency audit: pip-audit gave no report (exit {result.returncode}):\n{result.stderr}")
        return False
    return judge_report(report, exceptions)


def judge_report(report: dict, exceptions: dict[str, str]) -> bool:
    """Print every finding with its status; True when none is unexplained."""
    packages = report["dependencies"]
    skipped = [p for p in packages if "skip_reason" in p]
    findings = [(p["name"], p["version"], v) for p in packages for v in p.get("vulns", [])]
    unexplained = [(n, ver, v) for n, ver, v in findings if not ({v["id"], *v.get("aliases", [])} & exceptions.keys())]
    for name, version, vuln in findings:
        ids = {vuln["id"], *vuln.get("aliases", [])}
        reason = next((exceptions[i] for i in ids if i in exceptions), None)
        status = f"explained: {reason}" if reason else "UNEXPLAINED"
        print(
            f"  {name}=={version} {vuln['id']} (fixed in {', '.join(vuln['fix_versions']) or 'no release'}): {status}"
        )
    audited = len(packages) - len(skipped)
    print(
        f"dependency audit: {audited} of {len(packages)} pinned packages audited, "
        f"{len(findings)} known vulnerabilities, {len(unexplained)} unexplained"
    )
    if skipped:
        print(
            f"dependency audit: the vulnerability service could not answer for {len(skipped)} packages "
            f"(first: {skipped[0]['skip_reason']}); they are NOT audited by this run"
        )
    return not unexplained


def main() -> int:
    exceptions = (yaml.safe_load(EXCEPTIONS.read_text()) or {}) if EXCEPTIONS.exists() else {}
    secrets_ok = scan_secrets()
    dependencies_ok = audit_dependencies(exceptions)
    return 0 if secrets_ok and dependencies_ok else 1


if __name__ == "__main__":
    sys.exit(main())
