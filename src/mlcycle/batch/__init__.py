"""Batch prediction: a model over a whole file or dataset, in chunks, resumable.

The public API (implemented in :mod:`mlcycle.client.batch`, over the default client)::

    >>> import mlcycle.batch
    >>> result = mlcycle.batch.predict(  # doctest: +SKIP
    ...     "models:/churn@champion", "customers.parquet", "scores.parquet",
    ...     keep=["customer_id"], workers=2,
    ... )
    >>> result.rows, result.computed_chunks, result.resumed_chunks  # doctest: +SKIP
    (1000000, 10, 0)

The stage's logic lives in submodules (importing ``mlcycle.batch`` loads neither pandas
nor pyarrow; they load with the first prediction):

* :mod:`mlcycle.batch.sources` - Parquet files and folders, CSV, datasets as numbered chunks
* :mod:`mlcycle.batch.predictor` - one chunk of input rows to its output rows
* :mod:`mlcycle.batch.executors` - the :class:`Executor` protocol and :class:`ThreadExecutor`
* :mod:`mlcycle.batch.slices` - where a chunk's rows are, for workers that read them
* :mod:`mlcycle.batch.parts` - finished chunks kept for a resume, and the job manifest
* :mod:`mlcycle.batch.bucket_parts` - ``s3://`` output: partitioned Parquet in a bucket
* :mod:`mlcycle.batch.job` - :func:`~mlcycle.batch.job.run_batch`: read, predict, assemble
* :mod:`mlcycle.batch.results` - :class:`BatchResult` and :class:`ModelIdentity`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcycle._lazy import attach

if TYPE_CHECKING:
    from mlcycle.batch.executors import Executor as Executor
    from mlcycle.batch.executors import ThreadExecutor as ThreadExecutor
    from mlcycle.batch.results import DEFAULT_CHUNK_ROWS as DEFAULT_CHUNK_ROWS
    from mlcycle.batch.results import BatchResult as BatchResult
    from mlcycle.batch.results import ModelIdentity as ModelIdentity
    from mlcycle.client.batch import predict as predict
    from mlcycle.errors import PredictionFailedError as PredictionFailedError

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "BatchResult": "mlcycle.batch.results:BatchResult",
        "DEFAULT_CHUNK_ROWS": "mlcycle.batch.results:DEFAULT_CHUNK_ROWS",
        "Executor": "mlcycle.batch.executors:Executor",
        "ModelIdentity": "mlcycle.batch.results:ModelIdentity",
        "PredictionFailedError": "mlcycle.errors:PredictionFailedError",
        "ThreadExecutor": "mlcycle.batch.executors:ThreadExecutor",
        "predict": "mlcycle.client.batch:predict",
    },
)
