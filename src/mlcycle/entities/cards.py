"""Model cards: one document per model version, for people and auditors.

A :class:`ModelCard` holds the version's details (owner, flavor, signature), what its owner
says about intended use and limitations (version tags ``mlcycle.card.<field>``), the
training data's lineage, profile and validation, evaluation overall, per slice and for
fairness, the promotion gates, approvals, deployment history and the latest monitoring.
It renders to Markdown and to a self-contained HTML page. The client gathers the facts
(:class:`mlcycle.backends.cards.ModelCards`); this module only arranges them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlcycle.entities.governance import CARD_FIELDS


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@dataclass(frozen=True, kw_only=True)
class ModelCard:
    """Everything known about one model version, ready to render.

    >>> card = client.governance.card("churn", 4)  # doctest: +SKIP
    >>> Path("card.md").write_text(card.to_markdown())  # doctest: +SKIP
    """

    name: str
    version: int
    status: str
    model_uri: str
    flavor: str | None = None
    owner: str | None = None
    description: str | None = None
    created_at: int = 0
    signature: Mapping[str, Any] | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)
    datasets: Sequence[Mapping[str, Any]] = ()
    evaluations: Sequence[Mapping[str, Any]] = ()
    gates: Sequence[Mapping[str, Any]] = ()
    approvals: Sequence[Mapping[str, Any]] = ()
    deployments: Sequence[Mapping[str, Any]] = ()
    monitoring: Sequence[Mapping[str, Any]] = ()
    retirement: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "model_uri": self.model_uri,
            "flavor": self.flavor,
            "owner": self.owner,
            "description": self.description,
            "created_at": self.created_at,
            "signature": None if self.signature is None else dict(self.signature),
            "fields": dict(self.fields),
            "run": dict(self.run),
            "datasets": [dict(d) for d in self.datasets],
            "evaluations": [dict(e) for e in self.evaluations],
            "gates": [dict(g) for g in self.gates],
            "approvals": [dict(a) for a in self.approvals],
            "deployments": [dict(d) for d in self.deployments],
            "monitoring": [dict(m) for m in self.monitoring],
            "retirement": None if self.retirement is None else dict(self.retirement),
        }

    # -- rendering --------------------------------------------------------------------------

    def sections(self) -> list[tuple[str, list[str], list[list[str]]]]:
        """(title, column headers, rows) of every section, in order; the renderers'
        common ground."""
        out: list[tuple[str, list[str], list[list[str]]]] = []
        details = [
            ["Model", f"{self.name} version {self.version}"],
            ["Status", self.status],
            ["Owner", _fmt(self.owner)],
            ["Flavor", _fmt(self.flavor)],
            ["Source", self.model_uri],
            ["Registered", _when(self.created_at)],
            ["Description", _fmt(self.description)],
        ]
        out.append(("Model details", ["Field", "Value"], details))
        if self.signature:
            rows = [
                [part, str(col.get("name", "")), str(col.get("type", ""))]
                for part in ("inputs", "outputs")
                for col in (self.signature.get(part) or [])
                if isinstance(col, Mapping)
            ]
            out.append(("Signature", ["Part", "Column", "Type"], rows))
        uses = [
            [f.replace("_", " ").capitalize(), self.fields.get(f) or "(not stated by the owner)"]
            for f in CARD_FIELDS
        ]
        out.append(("Intended use and limitations", ["Field", "Value"], uses))
        if self.run:
            rows = [["Run", f"{self.run.get('id')} ({self.run.get('name')})"]]
            rows.append(["Experiment", _fmt(self.run.get("experiment"))])
            rows += [[f"param {k}", str(v)] for k, v in sorted(self.run.get("params", {}).items())]
            rows += [
                [f"metric {k}", _fmt(v)] for k, v in sorted(self.run.get("metrics", {}).items())
            ]
            out.append(("Training run", ["Field", "Value"], rows))
        data_rows = [
            [
                f"{d.get('name')}:{d.get('version')}",
                _fmt(d.get("context")),
                _fmt(d.get("num_rows")),
                _fmt(d.get("num_columns")),
                _fmt(d.get("validation")),
                str(d.get("digest", ""))[:12],
            ]
            for d in self.datasets
        ]
        out.append(
            (
                "Training data (lineage and profile)",
                ["Dataset", "Context", "Rows", "Columns", "Validation", "Digest"],
                data_rows,
            )
        )
        eval_rows: list[list[str]] = []
        fair_rows: list[list[str]] = []
        for e in self.evaluations:
            where = str(e.get("path", ""))
            for metric, value in sorted((e.get("metrics") or {}).items()):
                eval_rows.append([where, "overall", metric, _fmt(value)])
            for column, groups in sorted((e.get("slices") or {}).items()):
                for label, scores in sorted(groups.items()):
                    for metric, value in sorted(scores.items()):
                        eval_rows.append([where, f"{column}={label}", metric, _fmt(value)])
            for column, report in sorted((e.get("fairness") or {}).items()):
                fair_rows.append(
                    [
                        column,
                        _fmt(report.get("demographic_parity_difference")),
                        _fmt(report.get("equalized_odds_difference")),
                    ]
                )
        out.append(("Evaluation", ["Report", "Slice", "Metric", "Value"], eval_rows))
        out.append(
            (
                "Fairness",
                ["Sensitive column", "Demographic parity diff.", "Equalized odds diff."],
                fair_rows,
            )
        )
        gate_rows = [
            [
                _fmt(g.get("gate")),
                _fmt(g.get("alias")),
                "pass" if g.get("passed") else "FAIL",
                _fmt(g.get("value")),
                _fmt(g.get("threshold")),
                str(g.get("detail", "")),
                _when(g.get("created_at")),
            ]
            for g in self.gates
        ]
        out.append(
            (
                "Promotion gates",
                ["Gate", "Alias", "Result", "Value", "Threshold", "Detail", "When"],
                gate_rows,
            )
        )
        approval_rows = [
            [
                str(a.get("description", "")),
                str(a.get("status", "")),
                str(a.get("requester", "")),
                _fmt(a.get("decided_by")),
                _fmt(a.get("decision_comment") or a.get("comment")),
                _when(a.get("decided_at") or a.get("created_at")),
            ]
            for a in self.approvals
        ]
        out.append(
            (
                "Approvals",
                ["Change", "Status", "Requested by", "Decided by", "Comment", "When"],
                approval_rows,
            )
        )
        deploy_rows = [
            [
                str(d.get("deployment", "")),
                str(d.get("action", "")),
                _fmt(d.get("actor")),
                _fmt(d.get("reason")),
                _when(d.get("at")),
            ]
            for d in self.deployments
        ]
        out.append(
            ("Deployment history", ["Deployment", "Change", "By", "Reason", "When"], deploy_rows)
        )
        monitor_rows = [
            [
                str(m.get("monitor", "")),
                str(m.get("status", "")),
                _fmt(m.get("rows")),
                _fmt(m.get("drift_share")),
                _fmt(m.get("message")),
                _when(m.get("created_at")),
            ]
            for m in self.monitoring
        ]
        out.append(
            (
                "Latest monitoring",
                ["Monitor", "Status", "Rows", "Drift share", "Message", "When"],
                monitor_rows,
            )
        )
        if self.retirement:
            rows = [[k.replace("_", " ").capitalize(), _fmt(v)] for k, v in self.retirement.items()]
            out.append(("Retirement", ["Field", "Value"], rows))
        return out

    def to_markdown(self) -> str:
        """The card as Markdown (GitHub tables)."""
        lines = [f"# Model card: {self.name} version {self.version}", ""]
        for title, headers, rows in self.sections():
            lines += [f"## {title}", ""]
            if not rows:
                lines += ["None recorded.", ""]
                continue
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "---|" * len(headers))
            for row in rows:
                cells = [c.replace("|", "\\|").replace("\n", " ") for c in row]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        return "\n".join(lines)

    def to_html(self) -> str:
        """The card as one self-contained HTML page (everything escaped)."""
        title = html.escape(f"Model card: {self.name} version {self.version}")
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:70em;"
            "margin:2em auto}table{border-collapse:collapse;margin-bottom:1.5em}"
            "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
            "th{background:#f3f3f3}</style></head><body>",
            f"<h1>{title}</h1>",
        ]
        for section, headers, rows in self.sections():
            parts.append(f"<h2>{html.escape(section)}</h2>")
            if not rows:
                parts.append("<p>None recorded.</p>")
                continue
            head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in rows
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        parts.append("</body></html>")
        return "\n".join(parts)
