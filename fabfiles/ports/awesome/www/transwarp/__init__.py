# The web framework the tutorial writes (stands in for it here).
