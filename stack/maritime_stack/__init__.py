"""The local stack: Kafka (KRaft), Airflow and MLflow as managed background processes,
the demo and the `maritime` CLI. Built on the runtime library (`maritimeiq`); nothing
below this package imports it."""

import sys
from pathlib import Path

# Console scripts (airflow, mlflow) of the environment the stack runs in.
VENV_BIN = Path(sys.executable).parent
