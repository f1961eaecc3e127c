"""What a fit records of its data: per-customer hashes that tell a subset from other data."""

from dataclasses import replace

import numpy as np
import pandas as pd

from bayesclv.models import fingerprint
from bayesclv.models.provenance import FittedCustomers


def test_a_subset_is_seen_and_changes_are_told_apart(cdnow):
    record = FittedCustomers.of(cdnow)
    assert len(record) == cdnow.n_customers
    assert record.calibration_end == pd.Timestamp("1997-09-30")
    for part in (cdnow.subset(np.arange(cdnow.n_customers) < 7), cdnow.subset(["all"])):
        unseen, changed = record.unseen(part)
        assert unseen.empty and changed.empty
    frame = cdnow.frame.copy()
    frame.iloc[1, frame.columns.get_loc("mean_spend")] += 1e-9  # the last bits count
    frame = frame.rename(index={frame.index[2]: "stranger"})
    unseen, changed = record.unseen(replace(cdnow, frame=frame))
    assert list(unseen) == ["stranger"] and list(changed) == [cdnow.frame.index[1]]


def test_segment_order_and_holdout_columns_do_not_count(cdnow):
    record = FittedCustomers.of(cdnow)
    frame = cdnow.frame.drop(columns=["x_holdout", "spend_holdout"])
    frame["segment"] = frame["segment"].cat.set_categories(["other", "all"])
    unseen, changed = record.unseen(replace(cdnow, frame=frame))
    assert unseen.empty and changed.empty
    assert fingerprint(replace(cdnow, frame=frame)) != fingerprint(cdnow)  # the whole differs


def test_the_record_round_trips_through_a_dataset(cdnow):
    record = FittedCustomers.of(cdnow)
    back = FittedCustomers.from_dataset(record.to_dataset())
    np.testing.assert_array_equal(back.ids, record.ids)
    np.testing.assert_array_equal(back.histories, record.histories)
    assert back.calibration_end == record.calibration_end
    unknown = FittedCustomers.from_dataset(replace(record, calibration_end=None).to_dataset())
    assert unknown.calibration_end is None
