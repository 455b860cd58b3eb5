#!/bin/sh
# Regenerate the worked cases' figures and charts.  Run from the repository root.
set -eu
BIN=${INTERLOCK:-.venv/bin/interlock}
PY=${PYTHON:-.venv/bin/python}
OUT=docs/analysis
$BIN analyze tests/data/analysis/three-steps.yaml --values tests/data/analysis/three-steps.values.yaml \
    --format svg --out $OUT/three-steps.svg
for plan in gaza-2025-01-phase1 gaza-2025-10-phase1; do
    $BIN analyze examples/$plan.yaml --schedule deadline --format svg --out $OUT/$plan.as-written.svg
    for schedule in optimistic deadline; do
        $BIN analyze examples/$plan.yaml --assume-monitor --schedule $schedule --format svg \
            --out $OUT/$plan.monitor.$schedule.svg
    done
    $BIN analyze examples/$plan.yaml --assume-monitor --schedule deadline --format json \
        --out $OUT/$plan.monitor.deadline.json
    $PY $OUT/tables.py examples/$plan.yaml > $OUT/$plan.figures.md
done
