"""The serving app's one table from exceptions to HTTP status codes.

::

    MalformedRequestError      400   the body does not parse or has the wrong shape
    NotFoundError              404   no model of that name is served here
    ModelRetiredError          410   the version behind the route was retired
    PayloadTooLargeError       413
    UnsupportedMediaTypeError  415
    InvalidInputError          422   the input breaks the model's signature (names the column)
    NotReadyError              503   the models are still loading
    anything else              500   the model raised; the body has the request ID

Error bodies name the ``type`` (the class), the ``message``, the ``field`` when known and
the ``request_id``. Under ``/v2`` (Open Inference Protocol) ``error`` is the message
string, as the protocol says; under ``/invocations`` MLflow's ``error_code`` is added.
"""

from __future__ import annotations

from mlcycle.errors import InvalidInputError, MlcycleError, ModelRetiredError, NotFoundError


class MalformedRequestError(InvalidInputError):
    """The request body does not parse, or its shape is not one the endpoint accepts."""


class UnsupportedMediaTypeError(InvalidInputError):
    """The request's content type is not one the endpoint reads."""


class PayloadTooLargeError(InvalidInputError):
    """The request body is larger than the server accepts."""


class NotReadyError(MlcycleError):
    """The models are not loaded yet."""


STATUS: dict[type[MlcycleError], int] = {
    MalformedRequestError: 400,
    UnsupportedMediaTypeError: 415,
    PayloadTooLargeError: 413,
    NotFoundError: 404,
    ModelRetiredError: 410,
    NotReadyError: 503,
    InvalidInputError: 422,
}

#: MLflow's scoring server's error codes, by status.
MLFLOW_CODES = {
    400: "BAD_REQUEST",
    404: "RESOURCE_DOES_NOT_EXIST",
    410: "RESOURCE_DOES_NOT_EXIST",
    413: "BAD_REQUEST",
    415: "BAD_REQUEST",
    422: "BAD_REQUEST",
    500: "INTERNAL_ERROR",
    503: "TEMPORARILY_UNAVAILABLE",
}


def status_of(exc: BaseException) -> int:
    """The HTTP status for ``exc`` (500 for anything not in the table)."""
    for cls in type(exc).__mro__:
        status = STATUS.get(cls)
        if status is not None:
            return status
    return 500
