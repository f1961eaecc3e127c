"""Static covariates in the data layer: attached per customer, checked, encoded as terms."""

import re

import numpy as np
import pandas as pd
import pytest

from bayesclv.data import CovariateEncoding, CustomerSummary, covariates_from_log, with_covariates
from bayesclv.data.covariates import CovariateColumn
from bayesclv.errors import DataError


@pytest.fixture
def summary() -> CustomerSummary:
    frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "x": [0, 1, 2, 3],
                          "t_x": [0.0, 1.0, 2.0, 3.0], "T": [5.0, 5.0, 5.0, 5.0]})
    return CustomerSummary.from_frame(frame)


def table(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.Index(["a", "b", "c", "d"], name="customer_id"))


def test_numeric_and_categorical_columns_are_told_apart_and_encoded(summary):
    attached = with_covariates(summary, table(channel=["web", "shop", "web", "app"],
                                              age=["20", "30", "40", "50"]))
    assert attached.covariates == ("channel", "age")
    encoding = CovariateEncoding.learn(attached, ["channel", "age"])
    channel, age = encoding.columns
    assert channel.kind == "categorical" and channel.levels == ("web", "app", "shop")
    assert age.kind == "numeric" and age.mean == 35.0 and age.sd == pytest.approx(np.sqrt(125))
    design = encoding.design(attached, ["channel", "age"])
    assert encoding.terms(["channel", "age"]) == ("channel[app]", "channel[shop]", "age")
    np.testing.assert_allclose(design[:, :2], [[0, 0], [0, 1], [0, 0], [1, 0]])
    np.testing.assert_allclose(design[:, 2], (np.array([20, 30, 40, 50]) - 35) / np.sqrt(125))


def test_numbers_named_categorical_stay_codes(summary):
    attached = with_covariates(summary, table(region=[1, 2, 2, 3]), categorical=["region"])
    column = CovariateEncoding.learn(attached, ["region"]).columns[0]
    assert column.kind == "categorical" and column.levels == ("2", "1", "3")


def test_the_reference_level_is_the_most_common_ties_broken_by_sort_order():
    column = CovariateColumn.learn("c", pd.Series(["b", "a", "b", "a", "c"]))
    assert column.levels == ("a", "b", "c")


@pytest.mark.parametrize(("covariates", "message"), [
    (dict(channel=["web", None, "web", "app"]), "covariate 'channel' is missing for customer 'b'"),
    (dict(channel=["web", " ", "web", "app"]), "covariate 'channel' is missing for customer 'b'"),
    (dict(channel=["web"] * 4), "has the same value ('web') for every customer"),
    (dict(age=[3.0] * 4), "has the same value (3) for every customer"),
    (dict(x=[1, 2, 3, 4]), "covariate 'x' has the name of a summary column"),
])
def test_bad_covariates_are_named(summary, covariates, message):
    with pytest.raises(DataError, match=re.escape(message)):
        with_covariates(summary, table(**covariates))


def test_a_customer_without_a_row_is_named(summary):
    partial = table(channel=["web", "app", "web", "app"]).iloc[:3]
    with pytest.raises(DataError, match="1 customers have no row in the covariate table, e.g. 'd'"):
        with_covariates(summary, partial)


def test_a_missing_column_suggests_the_close_one(summary):
    with pytest.raises(DataError, match="did you mean 'channel'"):
        with_covariates(summary, table(channel=["web", "app", "web", "app"]), ["chanel"])


def test_scoring_refuses_a_level_the_fit_never_saw(summary):
    fitted = with_covariates(summary, table(channel=["web", "app", "web", "app"]))
    encoding = CovariateEncoding.learn(fitted, ["channel"])
    new = with_covariates(summary, table(channel=["web", "app", "fax", "app"]))
    with pytest.raises(DataError, match="customer 'c' is 'fax', a level the fit never saw"):
        encoding.design(new, ["channel"])
    with pytest.raises(DataError, match="have no covariate 'channel'"):
        encoding.design(summary, ["channel"])


def test_an_encoding_round_trips():
    encoding = CovariateEncoding((CovariateColumn("c", "categorical", levels=("x", "y")),
                                  CovariateColumn("n", "numeric", mean=2.5, sd=0.5)))
    assert CovariateEncoding.from_list(encoding.to_list()) == encoding


def test_covariates_from_the_log_are_one_value_per_customer():
    log = pd.DataFrame({"customer_id": ["a", "a", "b"], "channel": ["web", "web", "app"],
                        "age": [30, 30, 41]})
    found = covariates_from_log(log, "customer_id", ["channel", "age"])
    assert found.to_dict("index") == {"a": {"channel": "web", "age": 30},
                                      "b": {"channel": "app", "age": 41}}


def test_a_covariate_that_varies_within_a_customer_is_named():
    log = pd.DataFrame({"customer_id": ["a", "a", "b"], "channel": ["web", "app", "app"]})
    with pytest.raises(DataError, match="covariate 'channel' varies within customer 'a' "
                                        r"\('web' and 'app'\)"):
        covariates_from_log(log, "customer_id", ["channel"])


def test_a_log_row_without_a_covariate_is_named():
    log = pd.DataFrame({"customer_id": ["a", "b"], "channel": ["web", None]})
    with pytest.raises(DataError, match=r"row 3 \(customer 'b'\): covariate 'channel' is missing"):
        covariates_from_log(log, "customer_id", ["channel"])
