"""`syndicate bench`: the benchmark, measured the same way every time on a temporary store.

`runner` plans and prints; `workspace` builds stores and settings; `regeneration`, `serving`,
`embargo` and `push` each measure one part; `corpus` makes the synthetic articles and
`loadgen` is the load generator used when `wrk` is not installed. Benchmarks are not tests:
nothing here asserts; targets are shown beside the figures. Stores are reached through the
`Store` protocol only.
"""
