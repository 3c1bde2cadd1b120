// Package attacktest is an exact attacker of HQ analytics' Aggregate answers, for the tests
// of issue 13: an analyst who keeps every answer they receive and solves the linear system
// the answers form must not pin down, nor bound away from 0 and k, any count from 1 to k-1.
//
// # The model
//
// A synthetic caseload (Generate, Returns) counts persons per atom: one combination of a
// value of every dimension it varies (year, programme, sex, host country, return country:
// 160 atoms for Returns). Every other dimension of the measure holds one value, so the atoms
// are the finest groups any answer can describe. The analyst knows the dimensions and their
// values, and from each answer (Attacker.Observe):
//   - every released number, cell or total, is an equation: the sum of the atoms its keys
//     and the request's filter select (years, programmes, countries, regions, nationalities)
//     equals the count; a region is the sum of its countries (internal/region);
//   - every combination of the group-by values that an answer of suppression does not list
//     counts nobody (the contract lists every non-empty combination, withheld ones too), a
//     zero that empties every atom under it;
//   - a withheld number gives no equation; it is kept as a question to ask. Optionally
//     (existence) a listed cell, withheld or not, is known to hold at least one person: the
//     contract lists only non-empty combinations, so a listed withheld cell is 1 or more;
//   - distinct_values must say nothing the listed cells do not (Observe checks it);
//   - a differentially private answer is noisy: it is counted and left out of the system
//     (noise makes no equation; its privacy is the epsilon ledger's business, not this
//     package's).
//
// Counts are non-negative integers. System keeps the atoms the zeros empty apart, keeps the
// independent equations (Gaussian elimination modulo a 61-bit prime: independent there means
// independent over the rationals), and finds a feasible basis once (phase one of the
// simplex). Attack then asks about every count from 1 to k-1 of the truth: every combination
// of a node per coordinate (all of it, a value, a region of a country coordinate: the atoms
// and every marginal above them) and every number an answer withheld. For each, two linear
// programs from that basis give its minimum and maximum over all non-negative counts that
// reproduce every answer; rounded inwards (ceil of the minimum, floor of the maximum) they
// are sound bounds for integers, which an attacker with an integer solver could only
// tighten. A count is disclosed when the bounds lie within 1..k-1. Each program stops as
// soon as it shows the interval reaching 0 or k, which keeps an attack to a fraction of a
// second.
//
// The simplex is this package's own, in float64 with a tolerance of 1e-9 on pivots and 1e-6
// on the bounds (the tableaux of 0/1 systems hold small rationals), Dantzig's rule with
// Bland's after degenerate runs; its tests compare it with gonum's lp.Simplex on random
// systems. Every disclosure is checked against the truth (an interval that misses the true
// count is a model error, not a finding), and Attacker.Check verifies that the truth
// satisfies every equation read, so a misreading of the contract fails loudly.
//
// # Drivers and targets
//
// Queries lists what an analyst would send: every group-by of up to three of the caseload's
// dimensions and their regions, under no filter, one year, year ranges, one value or every
// value but one of a dimension, and one year with one value (Plan.Grid keeps to whole years,
// the "safe practice"). Run sends them through an Answerer, logging the ones refused
// with INVALID_ARGUMENT: Client is the real AnalyticsService over gRPC; PerAnswer answers
// from the caseload with disclosure.Suppress applied to each answer alone, the policy the
// issue shows leaking, kept as a fixed target so that the attacker's own tests keep proving
// it finds leaks whatever the service becomes.
//
// RandomScenario draws what issue 13's "hundreds of random caseloads and query sequences"
// are made of: a caseload of 60 to 1,000 persons over a random domain (one to three years,
// one or two programmes, sex, one to four host and two to five return countries, and one
// time in two nationality and age band; the service refuses questions that combine
// dimensions of two of its release tables, sex with a country, say), at most MaxAtoms atoms, and a random subset of a random plan in a random order.
// The tests of seeds_test.go attack many of them, the service reloaded with each caseload,
// and the per-answer policy over the same ones. Explain shows a pinned count that is one
// released number less one or two others, the usual shape of a leak, so that a failure
// names the answers that make it.
//
// The package lives beside the service (services/analytics) rather than in
// internal/disclosure because it attacks the API's contract (its requests, filters, regions,
// how it lists cells), not a table: the disclosure package protects tables, this one reads
// answers. It imports neither the service nor its cube's internals, so the service's own
// tests may use it.
//
// # Limits
//
// One measure at a time, additive dimensions only (no vulnerability or exploitation type:
// their cells overlap, and a person's set of categories would be the atom); caseloads small
// enough for a dense tableau (a few hundred atoms); the questions are the marginals of the
// coordinates and the withheld numbers, not every subset of atoms (a count over "MAR or TUN",
// say, is asked only when some answer withheld it); no knowledge from outside the answers
// (published figures, a known person); k fixed per attack. ExportAggregate serves the same
// tables as Aggregate and is not driven separately.
package attacktest
