"""Analytics on grids: camera coverage, hot spots, patrol coverage, H3 bins and case KPIs."""
