"""Camera model, rasterisation of control maps and the built-in sketch renderer."""
