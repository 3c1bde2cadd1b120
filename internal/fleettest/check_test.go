package fleettest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/demo"
)

// projections are the tables that keep intake's cases, with intake's version of each, and the
// programmes whose cases each keeps.
var projections = []struct {
	table      string
	programmes []string
}{
	{`returns."case"`, []string{"AVRR"}},
	{`trafficking.victim_case`, []string{"VOT"}},
	{`hasm."case"`, []string{"HASM"}},
	{`referral."case"`, []string{"AVRR", "VOT", "HASM"}},
	{`handover."case"`, []string{"AVRR", "VOT", "HASM"}},
	{`analytics_state."case"`, []string{"AVRR", "VOT", "HASM"}},
}

// connect opens a connection as the database's owner, who reads every mission's rows.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// checkProjections checks that every projection holds every case of its programmes at
// intake's version (a lost event leaves an older one, or no row), and that intake holds each
// case of the series at the version its last change was acknowledged with.
func checkProjections(t *testing.T, owner *pgx.Conn, series []*seriesCase) {
	t.Helper()
	ctx := t.Context()
	for _, p := range projections {
		var cases, missing, older, newer int
		if err := owner.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE p.case_id IS NULL),
  count(*) FILTER (WHERE p.intake_version < i.version), count(*) FILTER (WHERE p.intake_version > i.version)
FROM intake."case" i LEFT JOIN `+p.table+` p USING (case_id) WHERE i.programme = ANY($1)`, p.programmes).Scan(&cases, &missing, &older, &newer); err != nil {
			t.Fatalf("%s: %v", p.table, err)
		}
		if missing+older+newer > 0 {
			t.Errorf("%s, of intake's %d cases of %v: %d missing, %d at an older version than intake's, %d at a newer one",
				p.table, cases, p.programmes, missing, older, newer)
		}
	}
	ids, versions := make([]string, len(series)), map[string]int64{}
	for i, c := range series {
		ids[i], versions[c.caseID] = c.caseID, c.version
	}
	rows, err := owner.Query(ctx, `SELECT case_id::text, version FROM intake."case" WHERE case_id = ANY($1::uuid[])`, ids)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	var version int64
	var wrong []string
	if _, err := pgx.ForEachRow(rows, []any{&id, &version}, func() error {
		if version != versions[id] {
			wrong = append(wrong, fmt.Sprintf("case %s at version %d, its last change acknowledged at %d", id, version, versions[id]))
		}
		delete(versions, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id := range versions {
		wrong = append(wrong, fmt.Sprintf("case %s of the series is not in intake", id))
	}
	if len(wrong) > 0 {
		t.Errorf("%d cases of the series not as acknowledged:\n%s", len(wrong), strings.Join(wrong, "\n"))
	}
}

// expected are the analytics figures of the load, by measure: every case registered (each
// principal consented to statistics), every traveller of an AVRR or HASM departure, each HASM
// decision, each victim identified, and each victim's referral.
func expected(seriesCases int, plans ...*demo.Plan) map[string]int64 {
	out := map[string]int64{"CASES_REGISTERED": int64(seriesCases)}
	for _, p := range plans {
		f := p.Figures
		out["CASES_REGISTERED"] += int64(p.Cases())
		out["PERSONS_RETURNED"] += int64(f.AVRRPersons + f.HASMIndividuals)
		out["HASM_REQUESTS_APPROVED"] += int64(f.HASMApproved)
		out["HASM_REQUESTS_REJECTED"] += int64(f.HASMRejected)
		out["VICTIMS_IDENTIFIED"] += int64(f.VictimsIdentified)
		out["REFERRALS"] += int64(f.Victims)
	}
	return out
}

// checkAnalytics checks that the projector counted each event once: no event has two facts
// of one ordinal, each measure's rollup is the sum of its facts, the measures of want are as
// many as the load made, and each referral is counted at its last version.
func checkAnalytics(t *testing.T, owner *pgx.Conn, want map[string]int64) {
	t.Helper()
	ctx := t.Context()
	var doubled, facts int
	if err := owner.QueryRow(ctx, `SELECT count(*) FILTER (WHERE n > 1), coalesce(sum(n), 0)
FROM (SELECT count(*) AS n FROM analytics.fact GROUP BY event_id, ordinal) f`).Scan(&doubled, &facts); err != nil {
		t.Fatal(err)
	}
	if doubled > 0 {
		t.Errorf("%d of the events counted in analytics.fact were counted more than once", doubled)
	}
	factCounts, rollup := measureCounts(t, owner, `SELECT measure, count(*) FROM analytics.fact GROUP BY measure`),
		measureCounts(t, owner, `SELECT measure, sum(persons)::bigint FROM analytics.rollup GROUP BY measure`)
	for _, m := range measures(factCounts, rollup, want) {
		if factCounts[m] != rollup[m] {
			t.Errorf("%s: %d facts, but a rollup of %d", m, factCounts[m], rollup[m])
		}
		if w, ok := want[m]; ok && factCounts[m] != w {
			t.Errorf("%s: %d counted, the load made %d", m, factCounts[m], w)
		}
	}
	t.Logf("analytics: %d facts, by measure %v", facts, factCounts)

	var referrals, stale int
	if err := owner.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE a.referral_id IS NULL OR a.version <> r.version)
FROM referral.referral r LEFT JOIN analytics_state.referral a USING (referral_id)`).Scan(&referrals, &stale); err != nil {
		t.Fatal(err)
	}
	if stale > 0 {
		t.Errorf("analytics: %d of %d referrals not counted at their last version", stale, referrals)
	}
}

func measureCounts(t *testing.T, owner *pgx.Conn, query string) map[string]int64 {
	t.Helper()
	rows, err := owner.Query(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	var m string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&m, &n}, func() error { out[m] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// measures are the keys of counts, sorted, each once.
func measures(counts ...map[string]int64) []string {
	var out []string
	for _, c := range counts {
		for m := range c {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
