"""The product's settings with one more URL, the bare authenticated view bench/pages.py compares
every page with. Used by the benchmark only."""

from inkt_trial.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
