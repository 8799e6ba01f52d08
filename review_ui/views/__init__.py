"""Route handlers, one module per area; each view fetches, builds a context, renders."""
