#!/usr/bin/env bash
# Cold setup time: a fresh clone with empty uv and Maven caches, as on a new machine
# (Debian packages excepted). Usage: bash bench/cold_setup.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/clone"
cd "$work/clone"
export UV_CACHE_DIR="$work/uv-cache"
export MAVEN_OPTS="-Dmaven.repo.local=$work/m2"
start=$(date +%s)
make python-deps >/dev/null
python_done=$(date +%s)
make jars >/dev/null
jars_done=$(date +%s)
echo "python dependencies: $((python_done - start))s"
echo "jvm dependencies:    $((jars_done - python_done))s"
echo "cold setup total:    $((jars_done - start))s"
du -sh .venv var/jars | sed 's/^/size: /'
