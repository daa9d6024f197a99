"""Predictive maintenance of main engines: features, labels, training, registry and scoring.

One row per vessel and UTC day (a *vessel-day*) with at least one engine reading; the
label says whether a maintenance event follows within the horizon. Training fits a
RandomForest pipeline, logs it to MLflow, registers it and moves the champion alias only
when the candidate beats the champion; scoring writes the champion's predictions to
`gold/maintenance_predictions`. The whole contract: docs/ENGINE_MODEL.md.

Modules: `features` (vessel-days and labels), `training` (fit, evaluate, register,
promote), `scoring` (predictions), `__main__` (the job, console script
`maritime-engine-model`, commands `train` and `score`).
"""

# The registry names, here so that tools can read them without loading Spark or MLflow.
CHAMPION_ALIAS = "champion"
DEFAULT_MODEL_NAME = "maritime-maintenance"
