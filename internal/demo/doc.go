// Package demo builds the synthetic 2015 caseload that `passage demo seed` loads: the AVRR
// year, the HASM year and a set of victims of trafficking, shaped after the figures of the
// seed document (IOM's 2015 report), for demos, analytics tests and load tests. Each victim is
// also referred for shelter to one of two demo partner agencies (an NGO, a government
// service), which accept, complete, decline or leave the referral unanswered in turn, so that
// referrals can be counted by status and partner type; the referrals are dated when they are
// loaded (the referral service stamps them), not in the caseload's year.
//
// It works in two steps. NewPlan computes every case deterministically from a seed (a
// seeded PRNG, largest-remainder rounding, so the published percentages come back at any
// scale); Loader.Load then creates the plan through the services' own gRPC APIs, as the
// caseworkers of each host mission and a programme manager at HQ would, never straight into
// tables. Every request id is derived from the plan, so a run that stopped half-way can be
// run again: what was created comes back as the stored replay, nothing is written twice.
//
// The people are synthetic and obviously so: names are placeholder syllables with a
// "Demo-" family name, documents are numbered "DEMO…", dates of birth are drawn at random.
// A demo database never holds a real-looking person.
package demo
