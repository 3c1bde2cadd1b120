package retention_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/retention"
)

func TestRetentionPolicyFromEnv(t *testing.T) {
	t.Setenv("PASSAGE_RETENTION_YEARS_VOT", "")
	t.Setenv("PASSAGE_RETENTION_YEARS_HASM", "")
	t.Setenv("PASSAGE_RETENTION_YEARS_AVRR", "7")
	p, err := retention.PolicyFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(retention.Policy{"AVRR": 7, "VOT": 10, "HASM": 5}, p); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"0", "-1", "seven", "101"} {
		t.Setenv("PASSAGE_RETENTION_YEARS_AVRR", bad)
		if _, err := retention.PolicyFromEnv(); err == nil {
			t.Errorf("PASSAGE_RETENTION_YEARS_AVRR=%q accepted", bad)
		}
	}
}
