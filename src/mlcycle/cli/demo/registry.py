"""Stage 5, registry: promote the best version through the gates to @champion."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape

import mlcycle
import mlcycle.models
import mlcycle.registry
from mlcycle.cli.demo.retirement import model_card
from mlcycle.cli.demo.shared import ALIAS, MODEL, DemoState


def promote_best(s: DemoState) -> None:
    """Promote the best run's model version to the champion alias, then load and predict."""
    data = s.need_data()
    best = s.ranked[0] if s.ranked else None
    version = s.versions.get(best.id) if best is not None else None
    count = len(mlcycle.registry.list_versions(MODEL, client=s.client))
    s.console.print(
        f"Registered model [bold]{escape(MODEL)}[/]: {count} versions, "
        f"this demo added {len(s.versions)}."
    )
    if best is not None and version is not None:
        try:
            promotion = mlcycle.registry.promote(MODEL, version, alias=ALIAS, client=s.client)
            results: Sequence[mlcycle.registry.GateResult] = promotion.results
            was = f" (was version {promotion.previous})" if promotion.previous else ""
            outcome = f"Promoted version {version} ({escape(best.name)}) to @{ALIAS}{was}."
        except mlcycle.registry.PromotionRefusedError as exc:
            results = exc.results
            outcome = f"[yellow]Version {version} was not promoted[/]: the current @{ALIAS} stays."
        for result in results:
            mark = "[green]✓[/]" if result.passed else "[red]✗[/]"
            s.console.print(f"  {mark} gate {escape(result.gate)}: {escape(result.detail)}")
        s.console.print(outcome)
        if "Promoted" in outcome:
            s.champion = version
            model_card(s, version, "Model card of the first champion")
    try:
        champion = mlcycle.registry.get_version(MODEL, alias=ALIAS, client=s.client)
    except mlcycle.NotFoundError:
        s.console.print(f"No @{ALIAS} yet: no version passed the gates.")
        return
    uri = f"models:/{MODEL}@{ALIAS}"
    # Our own models: trust the types skops does not know (a forest's trees).
    model = mlcycle.models.load(uri, trusted=s.trusted, client=s.client)
    rows = data.x_test.head(5)
    predicted = [int(v) for v in model.predict(rows)]
    actual = [int(v) for v in data.y_test.head(5)]
    s.console.print(
        f"Loaded {uri} (version {champion.version}); predictions for 5 test rows: "
        f"{predicted} (actual {actual}).",
        markup=False,
    )
