"""Read services over the store: KPIs and case cubes, map layers, warm analytics, locating
points in grids. No Dash: the pages and the API call them."""
