"""Every page of the UI over a live server and a real store, and its error states."""

from __future__ import annotations

import re

import httpx

from tests.server.ui.conftest import Seeded


def html(response: httpx.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_root_maps_mlflow_links_without_a_server_round_trip(ui: httpx.Client) -> None:
    body = html(ui.get("/"))
    assert "experiments\\/([^/?]+)\\/runs\\/([^/?]+)" in body  # the hash -> page map
    assert "/models/" in body


def test_api_docs_load_swagger_ui_from_the_package(ui: httpx.Client) -> None:
    body = html(ui.get("/docs"))
    assert "/ui/static/vendor/swagger-ui-bundle.js" in body
    assert "cdn" not in body.lower()
    script = ui.get("/ui/static/vendor/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")


def test_experiments_list_shows_the_problem_and_run_counts(
    ui: httpx.Client, seeded: Seeded
) -> None:
    body = html(ui.get("/experiments"))
    assert f'href="/experiments/{seeded.experiment_id}"' in body
    assert "classification" in body
    assert "churned" in body
    assert "accuracy" in body
    assert ">5<" in body  # four runs and the long one
    assert "fraud" not in html(ui.get("/experiments", params={"q": "chu"}))


def test_runs_table_sorts_filters_and_pages_on_the_server(ui: httpx.Client, seeded: Seeded) -> None:
    url = f"/experiments/{seeded.experiment_id}"
    body = html(ui.get(url, params={"order": "metrics.accuracy DESC", "limit": "2"}))
    names = re.findall(r'<a href="/runs/[0-9a-f]+">([^<]+)</a>', body)
    assert names == ["run-3", "run-2"]
    token = re.search(r'href="([^"]*page_token=[^"]+)" rel="next"', body)
    assert token is not None
    second = html(ui.get(url + token.group(1).replace("&amp;", "&")))
    assert re.findall(r'<a href="/runs/[0-9a-f]+">([^<]+)</a>', second) == ["run-1", "run-0"]
    filtered = html(ui.get(url, params={"filter": "params.model = 'gbm'"}))
    assert re.findall(r'<a href="/runs/[0-9a-f]+">([^<]+)</a>', filtered) == ["run-3", "run-2"]


def test_filter_errors_show_inline_with_their_position(ui: httpx.Client, seeded: Seeded) -> None:
    body = html(
        ui.get(f"/experiments/{seeded.experiment_id}", params={"filter": "metrics.accuracy >"}),
        400,
    )
    assert 'role="alert"' in body
    assert "^ position 18" in body
    assert 'value="metrics.accuracy &gt;"' in body  # the filter stays in the box


def test_bad_columns_and_limits_are_named(ui: httpx.Client, seeded: Seeded) -> None:
    url = f"/experiments/{seeded.experiment_id}"
    assert "cols:" in html(ui.get(url, params={"cols": "weights.x"}), 400)
    assert "limit:" in html(ui.get(url, params={"limit": "0"}), 400)


def test_columns_with_min_and_max_and_group_by(ui: httpx.Client, seeded: Seeded) -> None:
    body = html(
        ui.get(
            f"/experiments/{seeded.experiment_id}",
            params={"cols": "metrics.loss:min,metrics.loss:max,params.lr", "group": "params.model"},
        )
    )
    assert "loss (min)" in body
    assert "loss (max)" in body
    groups = body.split('id="groups"')[1].split("</table>")[0]
    assert ">rf<" in groups
    assert ">gbm<" in groups
    assert ">(none)<" in groups


def test_run_page(ui: httpx.Client, seeded: Seeded) -> None:
    body = html(ui.get(f"/runs/{seeded.runs[0]}"))
    assert "run-0" in body
    assert "churn" in body
    assert 'data-key="loss"' in body  # a chart, drawn lazily by the script
    assert "<td>lr</td><td><code>0.1</code>" in body
    assert 'href="/models/churn-model/versions/1"' in body
    assert "report/" in body  # artifacts


def test_metric_buckets_keep_extremes_and_rebucket_a_range(
    ui: httpx.Client, seeded: Seeded
) -> None:
    url = f"/ui/api/runs/{seeded.long_run}/metric-buckets"
    whole = ui.get(url, params={"key": "loss", "buckets": 100}).json()
    assert whole["total"] == whole["points"] == 20_000
    assert len(whole["step"]) == 100
    assert whole["max"][0] >= whole["last"][0] >= whole["min"][0]
    zoom = ui.get(url, params={"key": "loss", "start": 100, "end": 149}).json()
    assert zoom["points"] == 50
    assert zoom["step"] == list(range(100, 150))


def test_metric_bucket_errors_are_json(ui: httpx.Client, seeded: Seeded) -> None:
    url = f"/ui/api/runs/{seeded.long_run}/metric-buckets"
    bad = ui.get(url, params={"key": "loss", "buckets": 1})
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "buckets"
    assert ui.get("/ui/api/runs/nope/metric-buckets", params={"key": "x"}).status_code == 404


def test_artifacts_tree_previews_and_downloads(ui: httpx.Client, seeded: Seeded) -> None:
    run = seeded.runs[0]
    tree = html(ui.get(f"/runs/{run}/artifacts"))
    assert "report/" in tree
    assert "meta.json" in tree
    assert "download" in tree
    csv = html(ui.get(f"/runs/{run}/artifacts", params={"path": "data/head.csv"}))
    assert '<th scope="col">a</th>' in csv
    assert "<td>3</td>" in csv
    page = html(ui.get(f"/runs/{run}/artifacts", params={"path": "report/page.html"}))
    assert 'sandbox=""' in page
    raw = ui.get(f"/runs/{run}/artifact-file", params={"path": "report/page.html"})
    assert raw.headers["content-security-policy"] == "sandbox"
    download = ui.get(
        f"/runs/{run}/artifact-file", params={"path": "meta.json", "download": "true"}
    )
    assert download.content == b'{"k": [1, 2]}'
    assert download.headers["content-disposition"].startswith("attachment")
    assert "not a file" in html(
        ui.get(f"/runs/{run}/artifact-file", params={"path": "report"}), 400
    )
    assert "no artifact" in html(ui.get(f"/runs/{run}/artifacts", params={"path": "nope.txt"}), 404)
    assert "may not contain" in html(ui.get(f"/runs/{run}/artifacts", params={"path": "../x"}), 400)


def test_compare_runs_across_experiments(ui: httpx.Client, seeded: Seeded) -> None:
    ids = f"{seeded.runs[0]},{seeded.other_run}"
    body = html(ui.get("/compare", params={"runs": ids}))
    assert "churn" in body
    assert "fraud" in body
    assert f'data-runs="{ids}"' in body
    only = html(ui.get("/compare", params={"runs": ids, "diff": "true"}))
    table = only.split('id="compare"')[1].split("</table>")[0]
    assert ">model<" in table  # rf against lr
    assert 'class="changed"' in table
    sweep = html(ui.get("/compare", params={"runs": ",".join(seeded.runs), "metric": "accuracy"}))
    assert "Parallel coordinates" in sweep
    assert "<polyline" in sweep
    too_many = ",".join(f"{i:032x}" for i in range(21))
    assert "at most 20" in html(ui.get("/compare", params={"runs": too_many}), 400)
    assert "Pick 2 to 20 runs" in html(ui.get("/compare"))


def test_registry_pages(ui: httpx.Client) -> None:
    assert 'href="/models/churn-model"' in html(ui.get("/models"))
    model = html(ui.get("/models/churn-model"))
    assert "v2" in model
    assert "v1" in model
    version = html(ui.get("/models/churn-model/versions/1"))
    assert "Lineage" in version
    assert "run-0" in version
    assert "Approvals need a server with" in version  # auth off
    assert "Model details" in version.split('id="card"')[1]
    assert "whole number" in html(ui.get("/models/churn-model/versions/x"), 400)
    assert "NotFoundError" in html(ui.get("/models/nope"), 404)


def test_audit_trail_verifies_the_chain(ui: httpx.Client) -> None:
    body = html(ui.get("/audit"))
    assert "Chain verified" in body
    assert "model_version.create" in html(
        ui.get("/audit", params={"action": "model_version.create"})
    )
    assert "limit" in html(ui.get("/audit", params={"limit": 0}), 400)


def test_unknown_things_are_html_404s(ui: httpx.Client) -> None:
    assert "404 NotFoundError" in html(ui.get("/runs/0123"), 404)
    assert "404" in html(ui.get(f"/experiments/{'0' * 32}"), 404)
    assert ui.get("/ui/static/../pyproject.toml").status_code == 404


def test_retire_a_version_from_its_page(ui: httpx.Client) -> None:
    url = "/models/churn-model/versions/2"
    missing = ui.post(f"{url}/retire", data={"reason": ""})
    assert 'id="action-error"' in html(missing, 400)
    done = ui.post(f"{url}/retire", data={"reason": "superseded"})
    assert done.status_code == 303
    page = html(ui.get(url))
    assert ">retired<" in page
    assert "Retire this version" not in page


def test_forms_posted_from_another_site_are_refused(ui: httpx.Client) -> None:
    url = "/models/churn-model/versions/1/retire"
    forged = ui.post(url, data={"reason": "x"}, headers={"Origin": "https://evil.example"})
    assert "posted from https://evil.example is refused" in html(forged, 403)
    assert ">retired<" not in html(ui.get("/models/churn-model/versions/1"))
