package intake

import (
	"strconv"
	"testing"

	"github.com/passage-cm/passage/internal/bootstrap"
)

// TestRegisterBatchesInFlight: PASSAGE_REGISTER_BATCHES_IN_FLIGHT's default is intake's own,
// and the setting reaches the group commit; 0 (a Config built in code) keeps the default.
func TestRegisterBatchesInFlight(t *testing.T) {
	t.Parallel()
	var def string
	for _, v := range bootstrap.EnvVars() {
		if v.Name == "PASSAGE_REGISTER_BATCHES_IN_FLIGHT" {
			def = v.Default
		}
	}
	if def != strconv.Itoa(registerBatchInFlight) {
		t.Errorf("PASSAGE_REGISTER_BATCHES_IN_FLIGHT defaults to %q, intake to %d", def, registerBatchInFlight)
	}
	for n, want := range map[int]int{0: registerBatchInFlight, 1: 1, 3: 3} {
		if got := New(nil, nil, WithRegisterBatchesInFlight(n)).batch.MaxInFlight; got != want {
			t.Errorf("WithRegisterBatchesInFlight(%d): %d batches in flight, want %d", n, got, want)
		}
	}
}
