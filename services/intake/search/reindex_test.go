package search_test

import (
	"context"
	"testing"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/intake/search"
)

// TestReindex: people registered before the search's indexes existed (their rows deleted
// here) are not found by name until the backfill runs; it indexes every person of the
// mission in batches, audited, and running it again changes nothing.
func TestReindex(t *testing.T) {
	t.Parallel()
	b := setup(t)
	caseID, _ := b.register(t, b.worker, "NER", mohammed())
	for range 4 {
		b.register(t, b.worker, "NER", person("Amina", "Zawadi", day(1992, 5, 17), "NGA"))
	}
	b.register(t, b.other, "DEU", mohammed())
	ner := b.env.Count(t, "vault.blind_index WHERE mission = 'NER'")
	b.env.ExecAsOwner(t, `DELETE FROM vault.blind_index WHERE kind NOT IN ('document', 'name_dob_nationality')`)
	req := byName("Muhammad", "Al-Hassan", day(1990, 4, 2))
	if resp, err := b.search.SearchPersons(b.worker, req); err != nil || len(resp.GetMatches()) != 0 {
		t.Fatalf("before the backfill: %v, %v; want no match", resp.GetMatches(), err)
	}

	db := database.NewDB(b.env.Pool(t, intake.Role))
	for range 2 {
		n, err := search.Reindex(context.Background(), db, b.env.Keys, "NER", "dpo-1", 2)
		if err != nil || n != 5 {
			t.Fatalf("Reindex = %d, %v; want NER's 5 people", n, err)
		}
	}
	resp, err := b.search.SearchPersons(b.worker, req)
	if err != nil || len(resp.GetMatches()) != 1 || resp.GetMatches()[0].GetCaseId() != caseID {
		t.Errorf("after the backfill: %v, %v; want case %s", resp.GetMatches(), err, caseID)
	}
	// NER's indexes are all back, once each; DEU's search indexes are not (another mission).
	if got := b.env.Count(t, "vault.blind_index WHERE mission = 'NER'"); got != ner {
		t.Errorf("NER has %d index rows after two backfills, %d before the deletion", got, ner)
	}
	if got := b.env.Count(t, "vault.blind_index WHERE mission = 'DEU' AND kind NOT IN ('document', 'name_dob_nationality')"); got != 0 {
		t.Errorf("the backfill of NER wrote %d search indexes of DEU", got)
	}
	var reasons []string
	for _, r := range b.env.AuditRecords(t, "passage search reindex") {
		reasons = append(reasons, r.Mission+" "+r.Actor+" "+r.Reason)
	}
	want := []string{"NER dpo-1 SEARCH_REINDEX persons=2", "NER dpo-1 SEARCH_REINDEX persons=2", "NER dpo-1 SEARCH_REINDEX persons=1"}
	if len(reasons) != 6 || reasons[0] != want[0] || reasons[1] != want[1] || reasons[2] != want[2] {
		t.Errorf("audit records %v, want %v twice", reasons, want)
	}
}
