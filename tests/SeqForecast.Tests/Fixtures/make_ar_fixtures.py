#!/usr/bin/env python3
"""Makes ar_fixtures.json: AR(p) coefficients, criteria and forecasts from statsmodels' AutoReg.

Run from the repository root with Debian's python3-statsmodels (0.13.5):
    /usr/bin/python3 tests/SeqForecast.Tests/Fixtures/make_ar_fixtures.py
The C# tests (Baselines/AutoRegressiveTests.cs) compare against the file at relative tolerance 1e-6.
"""
import csv
import json
import os

import numpy as np
import statsmodels
from statsmodels.tsa.ar_model import AutoReg, ar_select_order

HERE = os.path.dirname(os.path.abspath(__file__))
HORIZON = 12


def load(name):
    with open(os.path.join(HERE, "Data", name), newline="") as f:
        rows = list(csv.reader(f))
    return [float(r[1]) for r in rows[1:] if r]


def synthetic_ar2(n=200, seed=7):
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    for t in range(2, n):
        y[t] = 1.5 + 0.6 * y[t - 1] - 0.3 * y[t - 2] + rng.normal()
    return y.tolist()


def case(name, y, maxlag, ic=None, fixed=None):
    y_arr = np.asarray(y, dtype=float)
    if fixed is None:
        sel = ar_select_order(y_arr, maxlag=maxlag, ic=ic, trend="c", old_names=False)
        lags = sel.ar_lags
        order = 0 if lags is None else int(max(lags))
    else:
        order = fixed
    res = AutoReg(y_arr, lags=order, trend="c", old_names=False).fit()
    params = [float(v) for v in res.params]
    forecast = res.predict(start=len(y_arr), end=len(y_arr) + HORIZON - 1)
    return {
        "name": name,
        "values": y,
        "maxLag": maxlag,
        "criterion": ic,
        "fixedOrder": fixed,
        "order": order,
        "intercept": params[0],
        "coefficients": params[1:],
        "sigma2": float(res.sigma2),
        "nobs": int(res.nobs),
        "aic": float(res.aic),
        "bic": float(res.bic),
        "forecast": [float(v) for v in forecast],
    }


def main():
    airline = load("airline-passengers.csv")
    champagne = load("monthly_champagne_sales.csv")
    cars = load("monthly-car-sales.csv")
    ar2 = synthetic_ar2()
    cases = [
        case("airline-aic", airline, 13, ic="aic"),
        case("airline-bic", airline, 13, ic="bic"),
        case("champagne-aic", champagne, 12, ic="aic"),
        case("cars-bic", cars, 12, ic="bic"),
        case("synthetic-ar2-aic", ar2, 8, ic="aic"),
        case("synthetic-ar2-bic", ar2, 8, ic="bic"),
        case("airline-fixed-3", airline, 3, fixed=3),
        case("cars-fixed-0", cars, 0, fixed=0),
    ]
    out = {"generator": f"statsmodels {statsmodels.__version__}, numpy {np.__version__}", "horizon": HORIZON, "cases": cases}
    with open(os.path.join(HERE, "ar_fixtures.json"), "w") as f:
        json.dump(out, f, indent=1)
    for c in cases:
        print(c["name"], "order", c["order"])


if __name__ == "__main__":
    main()
