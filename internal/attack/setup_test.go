package attack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/services/catalog"
	"github.com/passage-cm/passage/services/followup"
)

// specs are the services `passage serve` runs, from the catalog it runs them from, so that a
// service added there is attacked without anyone listing it here. The follow-ups' reminder job
// runs once a day rather than every minute: the attacks count every row written, and a test
// that takes over a minute on a loaded machine would count the job's FollowUpDue events.
func specs() []bootstrap.Service {
	out := catalog.Services()
	for i, s := range out {
		if s.Name == followup.Name {
			out[i] = followup.SpecWith(followup.WithReminderInterval(24 * time.Hour))
		}
	}
	return out
}

// method is one RPC under attack.
type method struct {
	full  string // "/passage.intake.v1.IntakeService/RegisterCase"
	desc  protoreflect.MethodDescriptor
	roles []auth.Role // allowed by the policy
}

// methods walks the descriptors of every service's every method, so that a method added
// later is attacked without anyone listing it here.
func methods(t *testing.T) []method {
	t.Helper()
	var out []method
	for _, spec := range specs() {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(spec.Name))
		if err != nil {
			t.Fatalf("service %s: %v", spec.Name, err)
		}
		sd := d.(protoreflect.ServiceDescriptor)
		for i := range sd.Methods().Len() {
			m := sd.Methods().Get(i)
			full := "/" + string(sd.FullName()) + "/" + string(m.Name())
			roles := spec.Policy[full]
			if len(roles) == 0 {
				t.Fatalf("%s: no role may call it", full)
			}
			if m.IsStreamingClient() || m.IsStreamingServer() {
				t.Fatalf("%s: streaming methods are not attacked yet; extend the suite", full)
			}
			out = append(out, method{full: full, desc: m, roles: roles})
		}
	}
	if len(out) == 0 {
		t.Fatal("no methods found")
	}
	return out
}

// callerFor returns a context carrying a token for the method's first allowed role, so that
// the attack reaches past authorization into validation and the handler.
func callerFor(t *testing.T, env *testserver.Env, m method) context.Context {
	t.Helper()
	role := m.roles[0]
	mission := "NER"
	if role.IsHQ() {
		mission = auth.MissionHQ
	}
	return env.As(t, role, mission)
}

// tables lists every table of the database, qualified and quoted, read as the owner; but
// the migration bookkeeping and the outbox consumers' cursors, which the background
// consumers write on their own schedule, whatever the calls do, and the staff directory,
// which gains a member when a test mints their first token (testserver.Provision), as it
// would at their first call (internal/staffdir).
func tables(t *testing.T, env *testserver.Env) []string {
	t.Helper()
	var names []string
	env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, _ := conn.Query(ctx, `
		SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)
		FROM information_schema.tables
		WHERE table_type = 'BASE TABLE'
		  AND table_schema NOT IN ('pg_catalog', 'information_schema')
		  AND table_name NOT IN ('schema_migrations', 'outbox_cursor', 'staff_member')
		ORDER BY 1`)
		var err error
		if names, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
	})
	if len(names) < 10 || !strings.Contains(strings.Join(names, " "), "vault.") {
		t.Fatalf("tables = %v, want the services' and the vault's", names)
	}
	return names
}
