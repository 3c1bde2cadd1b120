package bootstrap

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/vault"
)

// TestReloadKEK: a running process picks up a KEK rotation written to its keyset file
// without a restart, and new seals use the new primary key from then on.
func TestReloadKEK(t *testing.T) {
	dir := t.TempDir()
	keys, err := vault.LoadOrCreateDevKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := vault.DevKeyringFiles(dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- reloadKEK(ctx, files, keys, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()

	h, err := files.KEK.Read()
	if err != nil {
		t.Fatal(err)
	}
	rotated, newID, err := vault.RotateKEK(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := files.KEK.Write(rotated); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for keys.KEKPrimary() != newID {
		if time.Now().After(deadline) {
			t.Fatal("the rotation was not picked up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
