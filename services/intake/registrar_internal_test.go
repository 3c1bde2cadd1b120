package intake

import (
	"context"
	"log/slog"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/procshare"
)

// TestRegisterBatchesInFlight: PASSAGE_REGISTER_BATCHES_IN_FLIGHT's default is intake's own,
// and the setting is the budget the group commit starts with; 0 (a Config built in code)
// keeps the default.
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
		if got := New(nil, nil, WithRegisterBatchesInFlight(n)).registrar.MaxInFlight(); got != want {
			t.Errorf("WithRegisterBatchesInFlight(%d): %d batches in flight, want %d", n, got, want)
		}
	}
}

// TestRegisterShare: two intake processes on one database (two pools, each under a process's
// application name, as internal/bootstrap names them) each write one of the default two
// registration batches at once; once one has gone, the other writes both.
func TestRegisterShare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.New(t)
	process := func() *pgxpool.Pool {
		name := procshare.ApplicationName(producer, procshare.NewProcessID())
		p, err := database.Open(ctx, database.PoolConfig{AdminURL: url, Role: Role, ApplicationName: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	a, b := process(), process()
	sa, sb := New(a, nil), New(b, nil)
	if got := sa.registrar.MaxInFlight(); got != registerBatchInFlight {
		t.Errorf("before counting, a process writes %d batches at once, want the whole budget, %d", got, registerBatchInFlight)
	}
	shareA, shareB := sa.registerShare(a, slog.Default()), sb.registerShare(b, slog.Default())
	for _, d := range []*procshare.Divider{shareA, shareB} {
		if _, err := d.Derive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if gotA, gotB := sa.registrar.MaxInFlight(), sb.registrar.MaxInFlight(); gotA != 1 || gotB != 1 {
		t.Errorf("side by side, the processes write %d and %d batches at once, want 1 each", gotA, gotB)
	}
	b.Close()
	// B's sessions end a moment after its pool closes; A counts again until it is alone.
	for {
		share, err := shareA.Derive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if share == registerBatchInFlight {
			break
		}
	}
	if got := sa.registrar.MaxInFlight(); got != registerBatchInFlight {
		t.Errorf("process A alone writes %d batches at once, want %d", got, registerBatchInFlight)
	}
}
