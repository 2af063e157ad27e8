"""Notes, their token codec, scores and exports. Never imports Qt."""
