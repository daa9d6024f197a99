"""The local stack: Kafka (KRaft), Airflow and MLflow as managed background processes."""
