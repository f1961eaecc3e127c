"""The shared dim names: ours are ArviZ's, so its functions reduce over the same dims."""

import arviz as az

from bayesclv.dims import SAMPLE_DIMS


def test_sample_dims_are_arviz_sample_dims():
    assert tuple(az.rcParams["data.sample_dims"]) == SAMPLE_DIMS
