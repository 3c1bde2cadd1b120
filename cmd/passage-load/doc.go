// Command passage-load is the load generator for RegisterCase: N clients, each calling in a
// closed loop over one shared gRPC connection (or --conns of them), send realistic synthetic
// registrations for a while and report cases/s and latency percentiles. `make bench` runs it
// against a fresh server and database (deploy/local/bench.sh).
//
// Every person it sends is made up from syllables and random numbers; it holds no real
// names. The mix is mostly new cases with households of 0 to --household members; about 2%
// re-register an earlier principal with the same passport, which the server must report as a
// suspected duplicate, and about 1% resend an earlier request as is, which the server must
// answer with the first case. Any error, or a server that fails one of those two checks,
// makes the run fail, as does a missed --min-rate or --max-p99 target.
//
// The summary's cases/s counts the cases registered in the measured window (replays excluded)
// divided by its length; the latencies are those of every successful call in it.
//
//	passage-load --addr 127.0.0.1:7070 --token "$(passage dev-token --role caseworker --mission NER)"
//	passage-load --concurrency 32 --duration 20s --min-rate 1500 --max-p99 50ms --json
package main
