"""``/graphql``: the GraphQL queries MLflow's web UI and clients send (runs, experiments,
metric history, artifacts, model versions, dataset summaries), over the MLflow operations
of the REST API.

The schema is MLflow's (the same type and field names, ``LongString`` for int64 values);
each root field runs the REST operation of the same name with the input's fields in
snake_case and answers its result in camelCase. A failed operation answers its error in the
field's ``apiError``, as MLflow does. Queries are bounded as MLflow bounds them: at most 10
root fields, 10 aliases on one level, depth 10 and 1,000 selections; errors are answered as
``{"data": null, "errors": ["message", ...]}``.

The route itself is :mod:`mlcycle.server.mlflow.graphql_route`, which imports this module
(and graphql-core) on the first query rather than at server start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute,
    parse,
    validate,
)

from mlcycle.errors import MlcycleError
from mlcycle.server.mlflow import artifacts, experiments, metrics, registry, runs, search, webui
from mlcycle.server.mlflow.context import MlflowContext
from mlcycle.server.mlflow.protocol import MlflowError, Params, error_code, mlflow_message

MAX_ROOT_FIELDS = 10
MAX_ALIASES = 10
MAX_DEPTH = 10
MAX_SELECTIONS = 1000

SDL = """
directive @component(name: String!) on QUERY | MUTATION
scalar LongString

type Query {
  mlflowGetExperiment(input: MlflowGetExperimentInput): MlflowGetExperimentResponse
  mlflowGetMetricHistoryBulkInterval(
    input: MlflowGetMetricHistoryBulkIntervalInput
  ): MlflowGetMetricHistoryBulkIntervalResponse
  mlflowGetRun(input: MlflowGetRunInput): MlflowGetRunResponse
  mlflowListArtifacts(input: MlflowListArtifactsInput): MlflowListArtifactsResponse
  mlflowSearchModelVersions(
    input: MlflowSearchModelVersionsInput
  ): MlflowSearchModelVersionsResponse
  test(inputString: String): Test
  mlflowSearchRuns(input: MlflowSearchRunsInput): MlflowSearchRunsResponse
}

type Mutation {
  mlflowSearchDatasets(input: MlflowSearchDatasetsInput): MlflowSearchDatasetsResponse
  mlflowSearchRuns(input: MlflowSearchRunsInput): MlflowSearchRunsResponse
  testMutation(inputString: String): TestMutation
}

type Test { output: String }
type TestMutation { output: String }
type ApiError { code: String message: String helpUrl: String traceId: String
  errorDetails: [ErrorDetail] }
type ErrorDetail { field: String message: String }

input MlflowGetExperimentInput { experimentId: String }
type MlflowGetExperimentResponse { experiment: MlflowExperiment apiError: ApiError }
type MlflowExperiment { experimentId: String name: String artifactLocation: String
  lifecycleStage: String lastUpdateTime: LongString creationTime: LongString
  tags: [MlflowExperimentTag!] effectiveTraceArchivalRetention: String workspace: String }
type MlflowExperimentTag { key: String value: String }

input MlflowGetMetricHistoryBulkIntervalInput { runIds: [String] metricKey: String
  startStep: Int endStep: Int maxResults: Int }
type MlflowGetMetricHistoryBulkIntervalResponse { metrics: [MlflowMetricWithRunId!]
  apiError: ApiError }
type MlflowMetricWithRunId { key: String value: Float timestamp: LongString step: LongString
  runId: String }

input MlflowGetRunInput { runId: String runUuid: String }
type MlflowGetRunResponse { run: MlflowRunExtension apiError: ApiError }
type MlflowRunExtension { info: MlflowRunInfo data: MlflowRunData inputs: MlflowRunInputs
  outputs: MlflowRunOutputs experiment: MlflowExperiment
  modelVersions: [MlflowModelVersion!] }
type MlflowRunInfo { runId: String runUuid: String runName: String experimentId: String
  userId: String status: MlflowRunStatus startTime: LongString endTime: LongString
  artifactUri: String lifecycleStage: String }
enum MlflowRunStatus { RUNNING SCHEDULED FINISHED FAILED KILLED }
type MlflowRunData { metrics: [MlflowMetricExtension!] params: [MlflowParam!]
  tags: [MlflowRunTag!] }
type MlflowMetricExtension { key: String value: Float timestamp: LongString step: LongString
  datasetName: String datasetDigest: String modelId: String runId: String }
type MlflowParam { key: String value: String }
type MlflowRunTag { key: String value: String }
type MlflowRunInputs { datasetInputs: [MlflowDatasetInput!] modelInputs: [MlflowModelInput!] }
type MlflowDatasetInput { tags: [MlflowInputTag!] dataset: MlflowDataset }
type MlflowInputTag { key: String value: String }
type MlflowDataset { name: String digest: String sourceType: String source: String
  schema: String profile: String }
type MlflowModelInput { modelId: String }
type MlflowRunOutputs { modelOutputs: [MlflowModelOutput!] }
type MlflowModelOutput { modelId: String step: LongString }

type MlflowModelVersion { name: String version: String creationTimestamp: LongString
  lastUpdatedTimestamp: LongString userId: String currentStage: String description: String
  source: String runId: String status: MlflowModelVersionStatus statusMessage: String
  tags: [MlflowModelVersionTag!] runLink: String aliases: [String] modelId: String
  modelParams: [MlflowModelParam!] modelMetrics: [MlflowModelMetric!] }
enum MlflowModelVersionStatus { PENDING_REGISTRATION FAILED_REGISTRATION READY }
type MlflowModelVersionTag { key: String value: String }
type MlflowModelParam { name: String value: String }
type MlflowModelMetric { key: String value: Float timestamp: LongString step: LongString
  datasetName: String datasetDigest: String modelId: String runId: String }

input MlflowListArtifactsInput { runId: String runUuid: String path: String pageToken: String }
type MlflowListArtifactsResponse { rootUri: String files: [MlflowFileInfo!]
  nextPageToken: String apiError: ApiError }
type MlflowFileInfo { path: String isDir: Boolean fileSize: LongString }

input MlflowSearchModelVersionsInput { filter: String maxResults: LongString
  orderBy: [String] pageToken: String }
type MlflowSearchModelVersionsResponse { modelVersions: [MlflowModelVersion!]
  nextPageToken: String apiError: ApiError }

enum MlflowViewType { ACTIVE_ONLY DELETED_ONLY ALL }
input MlflowSearchRunsInput { experimentIds: [String] filter: String
  runViewType: MlflowViewType = null maxResults: Int orderBy: [String] pageToken: String }
type MlflowSearchRunsResponse { runs: [MlflowRunExtension!] nextPageToken: String
  apiError: ApiError }

input MlflowSearchDatasetsInput { experimentIds: [String] }
type MlflowSearchDatasetsResponse { datasetSummaries: [MlflowDatasetSummary!]
  apiError: ApiError }
type MlflowDatasetSummary { experimentId: String name: String digest: String context: String }
"""

_CAMEL = re.compile(r"_([a-z0-9])")
_SNAKE = re.compile(r"(?<!^)([A-Z])")
Operation = Callable[[MlflowContext, Params], Any]


def _camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def _snake(name: str) -> str:
    return _SNAKE.sub(lambda m: "_" + m.group(1).lower(), name)


def camel_case(value: Any) -> Any:
    """An MLflow REST answer with camelCase keys (GraphQL's field names)."""
    if isinstance(value, Mapping):
        return {_camel(k): camel_case(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_case(v) for v in value]
    return value


def _long(value: Any) -> str:
    return str(value)


def _float(value: Any) -> float | None:
    """A double as GraphQL's Float: non-finite values (NaN, infinities) are null."""
    if isinstance(value, str):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _answer(ctx: MlflowContext, operation: Operation, values: Mapping[str, Any]) -> Any:
    try:
        return camel_case(operation(ctx, Params(values)) or {})
    except MlflowError as exc:
        return {"apiError": {"code": exc.code, "message": exc.message}}
    except MlcycleError as exc:
        return {"apiError": {"code": error_code(exc), "message": mlflow_message(exc.message)}}


def _root(operation: Operation) -> Callable[..., Any]:
    def resolve(_: Any, info: GraphQLResolveInfo, input: Mapping[str, Any] | None = None) -> Any:
        values = {_snake(k): v for k, v in (input or {}).items() if v is not None}
        return _answer(info.context, operation, values)

    return resolve


def _run_experiment(run: Mapping[str, Any], info: GraphQLResolveInfo) -> Any:
    experiment_id = run.get("info", {}).get("experimentId")
    answer = _answer(info.context, experiments.get_experiment, {"experiment_id": experiment_id})
    return answer.get("experiment")


def _run_versions(run: Mapping[str, Any], info: GraphQLResolveInfo) -> Any:
    run_id = run.get("info", {}).get("runId")
    answer = _answer(
        info.context, registry.search_model_versions, {"filter": f"run_id = '{run_id}'"}
    )
    return answer.get("modelVersions", [])


def _echo(_: Any, info: GraphQLResolveInfo, inputString: str | None = None) -> Any:
    return {"output": inputString}


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """MLflow's GraphQL schema with mlcycle's resolvers (built once)."""
    built = build_schema(SDL)
    long_string = built.type_map["LongString"]
    assert isinstance(long_string, GraphQLScalarType)
    long_string.serialize = _long  # type: ignore[method-assign]
    query, mutation = built.query_type, built.mutation_type
    assert query is not None
    assert mutation is not None
    roots: dict[str, Operation] = {
        "mlflowGetExperiment": experiments.get_experiment,
        "mlflowGetMetricHistoryBulkInterval": metrics.get_history_bulk_interval,
        "mlflowGetRun": runs.get_run,
        "mlflowListArtifacts": artifacts.list_artifacts,
        "mlflowSearchModelVersions": registry.search_model_versions,
        "mlflowSearchRuns": search.search_runs,
        "mlflowSearchDatasets": webui.search_datasets,
    }
    for root in (query, mutation):
        for name, field in root.fields.items():
            if name in roots:
                field.resolve = _root(roots[name])
            else:
                field.resolve = _echo
    extension = built.type_map["MlflowRunExtension"]
    assert isinstance(extension, GraphQLObjectType)
    extension.fields["experiment"].resolve = _run_experiment
    extension.fields["modelVersions"].resolve = _run_versions
    files = built.type_map["MlflowFileInfo"]
    assert isinstance(files, GraphQLObjectType)
    files.fields["fileSize"].resolve = _file_size
    summaries = built.type_map["MlflowDatasetSummary"]
    assert isinstance(summaries, GraphQLObjectType)
    summaries.fields["context"].resolve = _context
    for type_name in ("MlflowMetricWithRunId", "MlflowMetricExtension", "MlflowModelMetric"):
        kind = built.type_map[type_name]
        assert isinstance(kind, GraphQLObjectType)
        kind.fields["value"].resolve = _metric_value
    return built


def _metric_value(metric: Mapping[str, Any], info: GraphQLResolveInfo) -> float | None:
    value = metric.get("value")
    return None if value is None else _float(value)


def _file_size(entry: Mapping[str, Any], info: GraphQLResolveInfo) -> int:
    return int(entry.get("fileSize") or 0)  # proto3's default for a folder


def _context(summary: Mapping[str, Any], info: GraphQLResolveInfo) -> str:
    return str(summary.get("context") or "")  # proto3's default: an empty string


def _fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[list[FieldNode], int]:
    """The fields of one level (fragments merged in) and how many of them are aliased."""
    fields: list[FieldNode] = []
    aliases = 0
    pending = list(selection_set.selections)
    seen: set[str] = set()
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            fields.append(selection)
            aliases += selection.alias is not None
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
    return fields, aliases


def check_bounds(document: DocumentNode) -> str | None:
    """Why a query is refused (too deep, too wide, too many root fields or aliases)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    roots = selections = most_aliases = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        stack = [(definition.selection_set, 1)]
        while stack:
            selection_set, depth = stack.pop()
            if depth > MAX_DEPTH:
                return f"Query exceeds maximum depth of {MAX_DEPTH}"
            fields, aliases = _fields(selection_set, fragments)
            most_aliases = max(most_aliases, aliases)
            for field in fields:
                roots += depth == 1
                selections += 1
                if selections > MAX_SELECTIONS:
                    return f"Query exceeds maximum total selections of {MAX_SELECTIONS}"
                if field.selection_set is not None:
                    stack.append((field.selection_set, depth + 1))
    if roots > MAX_ROOT_FIELDS:
        return (
            f"GraphQL queries should have at most {MAX_ROOT_FIELDS} root fields, got {roots} "
            "root fields."
        )
    if most_aliases > MAX_ALIASES:
        return (
            f"GraphQL queries should have at most {MAX_ALIASES} aliases, got {most_aliases} "
            "aliases."
        )
    return None


def run_query(ctx: MlflowContext, body: Mapping[str, Any]) -> dict[str, Any]:
    """Execute one GraphQL request body (query, variables, operationName)."""
    query = body.get("query")
    if not isinstance(query, str):
        return {"data": None, "errors": ["the request has no GraphQL query"]}
    try:
        document = parse(query)
    except GraphQLError as exc:
        return {"data": None, "errors": [exc.message]}
    refused = check_bounds(document)
    if refused is not None:
        return {"data": None, "errors": [refused]}
    problems = validate(schema(), document)
    if problems:
        return {"data": None, "errors": [p.message for p in problems]}
    variables = body.get("variables")
    name = body.get("operationName")
    result = execute(
        schema(),
        document,
        context_value=ctx,
        variable_values=variables if isinstance(variables, dict) else None,
        operation_name=name if isinstance(name, str) else None,
    )
    assert not hasattr(result, "__await__")  # every resolver is synchronous
    errors = [e.message for e in result.errors] if result.errors else None
    return {"data": result.data, "errors": errors}
