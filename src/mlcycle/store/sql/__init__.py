"""The SQL store: SQLAlchemy 2 models, Alembic migrations, one repository per aggregate."""
