"""A small report pack built by hand, so the writers' tests need no fit."""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayesclv.report import ReportFigure, ReportPack, ReportTable


def small_pack(n_rows: int = 5) -> ReportPack:
    frame = pd.DataFrame(
        {
            "n": np.arange(n_rows, dtype=np.int64) * 1000,
            "value": np.linspace(-1.5, 1234.56789, n_rows),
            "p_positive": np.linspace(0.0, 1.0, n_rows),
            "label": [f"c{i}" for i in range(n_rows)],
            "flag": [i % 2 == 0 for i in range(n_rows)],
        },
        index=pd.Index([f"{i:04d}" for i in range(n_rows)], name="customer"),
    )
    frame.loc[frame.index[1], "value"] = np.nan
    figure = Figure(figsize=(3, 2))
    figure.subplots().plot([0, 1], [0, 1])
    return ReportPack(
        title="test <pack>",
        facts=(("currency", "USD"), ("intervals", "90% HDI")),
        tables=(ReportTable("values", "values per customer (USD; 90% HDI)", frame,
                            note="a note", percent=("p_positive",)),
                ReportTable("totals", "one total", pd.DataFrame({"total": [3.25]}))),
        figures=(ReportFigure("curve", "a curve", figure, note="read me"),),
        warnings=("the fit did NOT converge",),
    )
