"""Settings of the gunicorn that ``bench/api_bench.py`` starts: the production settings
with one change, ``ROOT_URLCONF`` = :mod:`bench.floor_urls` (the site's URLs and two
trivial DRF views that measure what HTTP, gunicorn, Django and DRF cost by themselves)."""

from billing_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
