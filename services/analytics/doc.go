// Package analytics is HQ's statistics service (passage.analytics.v1.AnalyticsService):
// anonymised counts of the programmes' work (cases registered, persons returned, persons
// assisted, victims identified, HASM decisions, referrals between agencies) grouped by up to
// four dimensions and released under disclosure control, so that no answer reveals a person.
//
// Two roles, two jobs. The projector (package projector, role passage_analytics_projector)
// follows every service's outbox events and maintains the anonymised tables of schema
// analytics (migrations/000013_analytics.up.sql documents the layout): de-identified facts,
// one per person counted, and the rollup, one count per combination of every dimension. The
// service answers calls with role passage_analytics, which reads the rollup and the victim
// records and nothing else: no vault, no case table, no outbox, no subject id.
//
// Speed: Aggregate never runs a GROUP BY in Postgres. The service keeps the rollup in memory
// as a dictionary-encoded columnar table (package cube), refreshed every 250 ms with the rows
// changed since the last refresh, and scans it per request.
//
// Table layout, for loaders and benchmarks (see 000013 for the full comments):
//
//	analytics.rollup (measure, year, programme, sex, age_band, nationality, host_country,
//	  return_country, vulnerabilities text[], assistance_type, exploitation_types text[],
//	  referral_status, partner_type, referral_direction (000017; empty but for REFERRALS),
//	  persons bigint, tx_id xid8 DEFAULT pg_current_xact_id())
//	  PRIMARY KEY every column but persons and tx_id; codes are enum value names without their
//	  prefix, countries alpha-3, 'UNKNOWN' a value not recorded, '' a dimension that does not
//	  apply to the measure; sets sorted. A bulk loader inserts rows with the default tx_id, and
//	  the running service picks them up at its next refresh.
//	analytics.fact: the same columns per person counted, plus event_id and ordinal.
//	analytics.victim_record: one de-identified row per identified victim (CTDC export).
//
// Replica: with PASSAGE_ANALYTICS_REPLICA_DATABASE_URL set (WithReplica), the reads (the
// rollup's refresh and the victim records) go to a Postgres hot standby, still as role
// passage_analytics; the privacy ledger's spends and their audit records, the only writes,
// and GetPrivacyBudget, which must see the spends just made, stay on the primary, as does the
// projector. The refresh needs nothing a standby refuses: its horizon is the xmin of the
// standby's snapshot, and every transaction below it has been replayed to its end, so a
// change that commits late is still read at a later refresh (TestReplica checks it). While
// the standby is unreachable, or its replay lags more than PASSAGE_ANALYTICS_REPLICA_MAX_LAG
// (default 5s), analytics' readiness says NOT_SERVING ("replica unreachable", "replica
// lagging"; load balancers turn to a replica of the service that can refresh), while the
// other services of the same process serve on: only analytics' reads depend on the standby.
// Aggregate meanwhile answers from the cube it holds, as it does through any failed refresh;
// within the bound, the answers are as old as the lag, which the exports' "data as of" (the
// refresh's start) does not include.
//
// Release: cells and every marginal total are derived from the protected releases of the
// populations they count (published.go: one disclosure.Protect release per measure, year,
// programme and release table, k = 11, kept current in the background), so that answers
// stay safe when combined; or, on request, they go through internal/privacy
// (differential privacy, the caller's yearly ε spent in the ledger first). The exports use
// internal/hxl (CSV with HXL hashtags; the table under suppression or, through the same
// releaseNoisy as Aggregate and the same ledger, under differential privacy) and internal/ctdc
// (victim records in the CTDC layout, k-anonymity verified before release). Every export
// carries its Provenance (method, k or ε and δ, release time, data as of, generator), in the
// response and in columns that end every row of its file (provenance.go).
//
// Consent: only persons whose statistics consent is in force when an event is applied are
// counted; a withdrawal acts from then on (see package projector).
//
// Hand-overs: a case handed over between missions is one journey, counted once. The steps the
// receiving mission records count the people the case's own mission registered, by the same
// rules and with the same once-per-person records (see package projector); no dimension is a
// mission.
//
// Referrals (MEASURE_REFERRALS) are a count of referrals, not of persons: each is counted
// once, under its current status, and its count moves from status to status as the referral
// does. A person may have any number of them, so differential privacy, which must bound what
// one person contributes, is refused for this measure; suppression applies as for the others.
package analytics
