"""From articles in to documents out: ingest and imports into the store; regeneration,
render workers, archives and on-demand feeds; the serving cache and the files in feeds/."""
