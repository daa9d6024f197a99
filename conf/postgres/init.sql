-- MLflow keeps its own database: both it and Airflow track migrations in alembic_version.
CREATE DATABASE mlflow OWNER airflow;
-- The serving database the Gold tables are published to.
CREATE DATABASE serving OWNER airflow;
