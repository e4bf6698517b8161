"""wangge's application core: the store, case rules, access, ingestion, read services and the
demo county. It uses :mod:`geo` and never imports Dash; :mod:`dashboard` is built on it."""
