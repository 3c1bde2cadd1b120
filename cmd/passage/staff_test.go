package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
	"github.com/passage-cm/passage/services/intake"
)

// TestStaffCommandsAgainstTheServer: an administrator provisions a caseworker, finds them in
// the mission's team, deactivates them (who then no longer appears, but with --inactive) and
// reactivates them; a command's usage errors name what is missing.
func TestStaffCommandsAgainstTheServer(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}})
	admin := env.As(t, auth.RoleAdmin, auth.MissionHQ)
	run := func(ctx context.Context, args ...string) (string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		vars := map[string]string{"PASSAGE_TOKEN": "carried by ctx"}
		c := &client{
			cli: cli{getenv: func(k string) string { return vars[k] }, stdout: &stdout, stderr: &stderr, now: time.Now,
				newRequestID: uuid.NewString},
			staff: func(clientOptions) (staffv1.StaffServiceClient, func(), error) {
				return staffv1.NewStaffServiceClient(env.Conn), func() {}, nil
			},
		}
		err := c.staffRun(ctx, args)
		return stdout.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(admin, args...)
		if err != nil {
			t.Fatalf("passage staff %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	if out := must("provision", "cw-amadou", "--mission", "NER", "--role", "caseworker", "--name", "Amadou"); !strings.Contains(out, "cw-amadou") ||
		!strings.Contains(out, "Amadou") {
		t.Errorf("provision printed:\n%s", out)
	}
	if out := must("list", "--mission", "NER"); !strings.Contains(out, "cw-amadou  NER") {
		t.Errorf("list printed:\n%s", out)
	}
	if out := must("deactivate", "cw-amadou", "--version", "1"); !strings.Contains(out, "inactive since") || !strings.Contains(out, "0 cases unassigned") {
		t.Errorf("deactivate printed:\n%s", out)
	}
	if out := must("list", "--mission", "NER"); strings.Contains(out, "cw-amadou") {
		t.Errorf("list printed a leaver:\n%s", out)
	}
	if out := must("list", "--mission", "NER", "--inactive"); !strings.Contains(out, "cw-amadou") {
		t.Errorf("list --inactive printed:\n%s", out)
	}
	if out := must("reactivate", "cw-amadou", "--version", "2"); !strings.Contains(out, "active") || strings.Contains(out, "inactive") {
		t.Errorf("reactivate printed:\n%s", out)
	}
	if out := must("get", "cw-amadou"); !strings.Contains(out, "  3  ") {
		t.Errorf("get printed:\n%s", out)
	}
	if _, err := run(admin, "deactivate", "cw-amadou"); err == nil || !strings.Contains(err.Error(), "--version") {
		t.Errorf("deactivate without a version: %v", err)
	}
	if _, err := run(admin, "provision", "cw-x", "--role", "caseworker"); err == nil || !strings.Contains(err.Error(), "--mission") {
		t.Errorf("provision without a mission: %v", err)
	}
}
