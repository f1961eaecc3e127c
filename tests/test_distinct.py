"""Collapsing parallel columns to their distinct rows, and gathering back."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bayesclv.distinct import distinct


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0.0, 1.5, 2.0, 39.25])),
                min_size=1, max_size=60))
def test_distinct_rows_gather_back_and_count_every_row(rows):
    seg, value = (np.array(c) for c in zip(*rows, strict=True))
    keys = distinct(seg, value)
    # every row is its distinct row; distinct rows are unique and sorted; counts add up
    np.testing.assert_array_equal(keys.codes(0)[keys.inverse], seg)
    np.testing.assert_array_equal(keys.columns[1][keys.inverse], value)
    assert len(set(zip(*keys.columns, strict=True))) == len(keys) == len(set(rows))
    assert list(zip(*keys.columns, strict=True)) == sorted(set(rows))
    assert keys.counts.sum() == len(rows)
    np.testing.assert_array_equal(np.bincount(keys.inverse, minlength=len(keys)), keys.counts)
    assert keys.stacked().shape == (2, len(keys))
