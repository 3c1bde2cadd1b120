package retention_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/envconfig"
	"github.com/passage-cm/passage/internal/retention"
)

// settings reads Settings as the server does, from env through internal/envconfig.
func settings(env map[string]string) (retention.Settings, error) {
	var s retention.Settings
	err := envconfig.Parse(&s, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return s, err
}

func TestRetentionSettingsFromEnv(t *testing.T) {
	s, err := settings(map[string]string{"PASSAGE_RETENTION_YEARS_VOT": "", "PASSAGE_RETENTION_YEARS_AVRR": "7"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(retention.Policy{"AVRR": 7, "VOT": 10, "HASM": 5}, s.Policy()); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
	if s.Interval != retention.Interval(24*time.Hour) {
		t.Errorf("interval %v, want 24h", time.Duration(s.Interval))
	}
	if s, err := settings(map[string]string{"PASSAGE_RETENTION_INTERVAL": "off"}); err != nil || s.Interval != 0 {
		t.Errorf("PASSAGE_RETENTION_INTERVAL=off: %v, %v", time.Duration(s.Interval), err)
	}
	for name, bad := range map[string][]string{
		"PASSAGE_RETENTION_YEARS_AVRR": {"0", "-1", "seven", "101"},
		"PASSAGE_RETENTION_INTERVAL":   {"soon", "30s", "-1h"},
	} {
		for _, v := range bad {
			if _, err := settings(map[string]string{name: v}); err == nil {
				t.Errorf("%s=%q accepted", name, v)
			}
		}
	}
}
