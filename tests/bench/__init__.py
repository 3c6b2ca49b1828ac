"""Benchmarks: `scripts/bench` (python -m tests.bench). One module per case; each case's
`run(options)` returns its figures {"<case>.<figure>": value}. Figures are printed and merged
into var/bench/results.json; no test asserts them."""
