#!/usr/bin/env bash
# ecg_scan: install everything into ./.venv (once; re-runs skip it) and run the demo or the test suite.
#   bash run.sh demo [demo options]   -> ecg-scan demo
#   bash run.sh test                  -> the whole test suite (what CI runs)
#   bash run.sh install               -> only the install step
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3 python; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2]<(3,10))' 2>/dev/null; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "run.sh: error: Python 3.10+ (3.11 recommended) not found; install it or set PYTHON=/path/to/python" >&2; exit 2; }

VENV=.venv
# What the install depends on: if none of it changed since the last successful install, skip it.
STAMP_SRC=$(cat pyproject.toml run.sh | sha256sum | cut -c1-16)
STAMP=$VENV/.ecg_scan-installed-$STAMP_SRC

install() {
  if [ -f "$STAMP" ]; then return 0; fi
  echo "run.sh: installing into $VENV (first run, or pyproject.toml/run.sh changed) ..."
  [ -x $VENV/bin/python ] || "$PY" -m venv $VENV
  $VENV/bin/python -m pip install -q --upgrade pip
  # torch goes in first and pinned (see DEVELOPERS.md); set TORCH_INDEX_URL to e.g. https://download.pytorch.org/whl/cpu
  $VENV/bin/python -m pip install -q torch==2.14.1 torchvision==0.29.1 ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"}
  $VENV/bin/python -m pip install -q -e ".[dev]"
  rm -f $VENV/.ecg_scan-installed-*
  touch "$STAMP"
  echo "run.sh: install done"
}

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg TOKENIZERS_PARALLELISM=false
cmd=${1:-}
case "$cmd" in
  install) install ;;
  demo) install; shift; exec $VENV/bin/ecg-scan demo "$@" ;;
  test) install; shift; exec $VENV/bin/python tools/check.py "$@" ;;
  *) echo "usage: bash run.sh demo|test|install" >&2; exit 2 ;;
esac
