"""One home for the names the platform gives things: stacks, units, accounts, roles,
buckets, keys, pipelines, tags."""
