"""Datasets: read, profile, validate, clean, split and compare tabular data.

The computational core lives in submodules, imported on demand so that importing
``mlcycle.datasets`` stays cheap (no pandas or pyarrow at import time):

* :mod:`mlcycle.datasets.reading` - DataFrame / Table / Parquet / CSV to record batches
* :mod:`mlcycle.datasets.profile` - one-pass, bounded-memory :class:`DatasetProfile`
* :mod:`mlcycle.datasets.validation` - declarative rules (Python or YAML) and reports
* :mod:`mlcycle.datasets.cleaning` - deduplicate, drop/impute missing, filter/clip ranges
* :mod:`mlcycle.datasets.splitting` - reproducible random/stratified/group/time splits
* :mod:`mlcycle.datasets.diff` - compare two profiles or schemas
* :mod:`mlcycle.datasets.schema` - logical column types
"""
