package audit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// serviceRoles are the roles that write audit records.
var serviceRoles = []string{"passage_intake", "passage_returns", "passage_trafficking", "passage_hasm"}

type bundle struct {
	adminURL string
	admin    *pgxpool.Pool // the database owner: DATABASE_URL's user
	auditor  *pgxpool.Pool
	key      *audit.Key
}

func setup(t *testing.T) *bundle {
	t.Helper()
	url := pgtest.New(t)
	b := &bundle{adminURL: url, admin: open(t, url, ""), auditor: open(t, url, audit.Role), key: newKey(t)}
	return b
}

func open(t *testing.T, url, role string) *pgxpool.Pool {
	t.Helper()
	pool, err := database.Open(context.Background(), database.PoolConfig{AdminURL: url, Role: role})
	if err != nil {
		t.Fatalf("pool as %q: %v", role, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func newKey(t *testing.T) *audit.Key {
	t.Helper()
	h, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	k, err := audit.NewKey(h)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func entry(mission string, n int) audit.Entry {
	return audit.Entry{
		Mission: mission, Actor: "staff-" + fmt.Sprint(n), Role: "caseworker", CallerMission: mission,
		Method: "/passage.intake.v1.IntakeService/UpdateCase", AggregateID: uuid.New(),
		RequestID: fmt.Sprintf("req-%d", n), ClientRequestID: uuid.New(),
	}
}

func (b *bundle) chain(t *testing.T) {
	t.Helper()
	if err := audit.NewChainer(b.auditor, b.key, audit.ChainerConfig{BatchSize: 7}).CatchUp(context.Background(), time.Minute); err != nil {
		t.Fatalf("chain: %v", err)
	}
}

func (b *bundle) verify(t *testing.T, mission string) audit.Chain {
	t.Helper()
	chains, err := audit.Verify(context.Background(), b.auditor, b.key, mission)
	if err != nil || len(chains) != 1 {
		t.Fatalf("verify %s: %v, %d chains", mission, err, len(chains))
	}
	return chains[0]
}

// recordIDs returns a mission's record ids in chain order.
func (b *bundle) recordIDs(t *testing.T, mission string) []int64 {
	t.Helper()
	rows, _ := b.admin.Query(context.Background(), `SELECT record_id FROM audit.link WHERE mission = $1 ORDER BY position`, mission)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestConcurrentWritersAcrossMissions writes from many goroutines, in several missions and
// through every service role at once, while a chainer runs: every chain verifies, with one
// link per record.
func TestConcurrentWritersAcrossMissions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	missions := []string{"NER", "DEU", "THA"}
	pools := map[string]*pgxpool.Pool{}
	for _, r := range serviceRoles {
		pools[r] = open(t, b.adminURL, r)
	}
	const writers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	stop := make(chan struct{})
	chainer := audit.NewChainer(b.auditor, b.key, audit.ChainerConfig{BatchSize: 50})
	go func() {
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if _, err := chainer.Drain(ctx); err != nil {
				errs <- err
				return
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool := pools[serviceRoles[w%len(serviceRoles)]]
			for i := range each {
				e := entry(missions[(w+i)%len(missions)], w*each+i)
				// Half the records ride in a longer transaction, as mutations do.
				var err error
				if i%2 == 0 {
					err = record(ctx, pool, e)
				} else {
					err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
						if err := record(ctx, tx, e); err != nil {
							return err
						}
						return record(ctx, tx, entry(e.Mission, -1))
					})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	b.chain(t)
	total := 0
	for _, m := range missions {
		c := b.verify(t, m)
		var n int64
		if err := b.admin.QueryRow(ctx, `SELECT count(*) FROM audit.record WHERE mission = $1`, m).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if c.Broken != nil || c.Links != n || c.Unchained != 0 {
			t.Errorf("%s: %d links, %d unchained, broken %v; want %d links", m, c.Links, c.Unchained, c.Broken, n)
		}
		total += int(n)
	}
	if want := writers * each * 3 / 2; total != want {
		t.Errorf("%d records, want %d", total, want)
	}
}

// TestLateCommitIsChainedInCommitOrder: a record whose transaction is still running holds
// the chain back; the records after it are not linked past it, and once it commits the
// chain takes both in commit order.
func TestLateCommitIsChainedInCommitOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	pool := open(t, b.adminURL, "passage_intake")
	slow, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx) //nolint:errcheck // committed below
	if err := record(ctx, slow, entry("NER", 1)); err != nil {
		t.Fatal(err)
	}
	if err := record(ctx, pool, entry("NER", 2)); err != nil {
		t.Fatal(err)
	}
	// One pass only: the open transaction holds the horizon, so catching up would wait for it.
	if _, err := audit.NewChainer(b.auditor, b.key, audit.ChainerConfig{}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if c := b.verify(t, "NER"); c.Links != 0 || c.Unchained != 1 || c.Broken != nil {
		t.Fatalf("while a writer is open: %+v, want nothing linked and one record waiting", c)
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b.chain(t)
	if c := b.verify(t, "NER"); c.Links != 2 || c.Unchained != 0 || c.Broken != nil {
		t.Fatalf("after the commit: %+v, want two links", c)
	}
}

// TestServiceRolesMayOnlyInsert: every service role can append a record of the mission it
// set, and nothing else: no read, no change, no removal, no link.
func TestServiceRolesMayOnlyInsert(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if err := record(ctx, open(t, b.adminURL, "passage_intake"), entry("NER", 0)); err != nil {
		t.Fatal(err)
	}
	for _, role := range serviceRoles {
		t.Run(role, func(t *testing.T) {
			pool := open(t, b.adminURL, role)
			if err := record(ctx, pool, entry("NER", 1)); err != nil {
				t.Fatalf("insert: %v", err)
			}
			read := `SELECT count(*) FROM audit.record`
			if role == "passage_intake" {
				// Intake reads its mission's records of changes, for a case's history, and only
				// the columns the history shows (migrations/000035): never a record's role.
				read = `SELECT role FROM audit.record`
			}
			for _, sql := range []string{
				read,
				`UPDATE audit.record SET actor = 'someone-else'`,
				`DELETE FROM audit.record`,
				`TRUNCATE audit.record`,
				`SELECT count(*) FROM audit.link`,
				`INSERT INTO audit.link VALUES ('NER', 1, 1, '1', '', '')`,
				`UPDATE audit.chain_cursor SET record_id = 0`,
			} {
				if _, err := pool.Exec(ctx, sql); !insufficientPrivilege(err) {
					t.Errorf("%s as %s: %v, want insufficient privilege", sql, role, err)
				}
			}
			// Row-level security: a record for a mission other than the one set is refused.
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SELECT set_config('passage.mission', 'DEU', true)`); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO audit.record (mission, actor, role, caller_mission, method, request_id)
VALUES ('NER', 'a', 'caseworker', 'NER', 'm', 'r')`)
				return err
			})
			if !insufficientPrivilege(err) {
				t.Errorf("insert for another mission as %s: %v, want a row-level security refusal", role, err)
			}
		})
	}
	t.Run(audit.Role, func(t *testing.T) {
		for _, sql := range []string{
			`UPDATE audit.record SET actor = 'someone-else'`,
			`DELETE FROM audit.record`,
			`TRUNCATE audit.record`,
			`UPDATE audit.link SET mac = ''`,
			`DELETE FROM audit.link`,
			`TRUNCATE audit.link`,
			`SELECT count(*) FROM vault.identity`,
			`SELECT count(*) FROM intake."case"`,
		} {
			if _, err := b.auditor.Exec(ctx, sql); !insufficientPrivilege(err) {
				t.Errorf("%s as the auditor: %v, want insufficient privilege", sql, err)
			}
		}
	})
}

// TestHQRecordsJoinTheMissionsChain: an HQ transaction (a programme manager deciding a
// mission's request) inserts its record under the mission whose data it touched; a mission's
// transaction cannot insert a record of another mission.
func TestHQRecordsJoinTheMissionsChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	pool := open(t, b.adminURL, "passage_hasm")
	if err := audit.Write(ctx, database.NewDB(pool).Mission("HQ"), entry("YEM", 1)); err != nil {
		t.Fatalf("HQ recording a YEM record: %v", err)
	}
	var mission string
	if err := b.admin.QueryRow(ctx, `SELECT mission FROM audit.record`).Scan(&mission); err != nil || mission != "YEM" {
		t.Errorf("record mission %q, %v; want YEM", mission, err)
	}
	err := audit.Write(ctx, database.NewDB(pool).Mission("NER"), entry("YEM", 2))
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("NER recording a YEM record: %v; want a row-level security refusal (42501)", err)
	}
}

func insufficientPrivilege(err error) bool {
	var pgErr *pgconn.PgError
	// 42501: insufficient_privilege, also what row-level security's WITH CHECK raises.
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}

// TestTamperingIsNamed edits the chained records and links as the database owner, who can
// do anything in the database but does not hold the key, and expects verification to name
// the first broken link.
func TestTamperingIsNamed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// tamper edits the chain of NER, whose records in chain order are ids; it returns the
		// position and record the break must name.
		tamper      func(t *testing.T, b *bundle, ids []int64) (int64, int64)
		wantProblem string
		// relinksAll: the tamperer relinked every mission's chain, not only NER's.
		relinksAll bool
	}{
		{"record altered", func(t *testing.T, b *bundle, ids []int64) (int64, int64) {
			b.exec(t, `UPDATE audit.record SET actor = 'staff-innocent' WHERE record_id = $1`, ids[2])
			return 3, ids[2]
		}, audit.ProblemAltered, false},
		{"reason changed", func(t *testing.T, b *bundle, ids []int64) (int64, int64) {
			b.exec(t, `UPDATE audit.record SET reason = 'DUPLICATE' WHERE record_id = $1`, ids[4])
			return 5, ids[4]
		}, audit.ProblemAltered, false},
		{"record removed", func(t *testing.T, b *bundle, ids []int64) (int64, int64) {
			b.exec(t, `DELETE FROM audit.record WHERE record_id = $1`, ids[3])
			return 4, ids[3]
		}, audit.ProblemRemoved, false},
		{"record and its link removed", func(t *testing.T, b *bundle, ids []int64) (int64, int64) {
			b.exec(t, `DELETE FROM audit.record WHERE record_id = $1`, ids[3])
			b.exec(t, `DELETE FROM audit.link WHERE record_id = $1`, ids[3])
			return 4, ids[4]
		}, audit.ProblemMissingLink, false},
		{"last link removed", func(t *testing.T, b *bundle, ids []int64) (int64, int64) {
			last := ids[len(ids)-1]
			b.exec(t, `DELETE FROM audit.link WHERE record_id = $1`, last)
			return int64(len(ids)), last
		}, audit.ProblemUnlinked, false},
		{"order swapped", func(t *testing.T, b *bundle, ids []int64) (int64, int64) {
			// Links 2 and 3 exchange their records: the chain now tells them in the other order.
			b.exec(t, `UPDATE audit.link SET record_id = -record_id WHERE record_id IN ($1, $2)`, ids[1], ids[2])
			b.exec(t, `UPDATE audit.link SET record_id = $2 WHERE record_id = -$1::bigint`, ids[1], ids[2])
			b.exec(t, `UPDATE audit.link SET record_id = $1 WHERE record_id = -$2::bigint`, ids[1], ids[2])
			return 2, ids[2]
		}, audit.ProblemAltered, false},
		{"record moved to another mission", func(t *testing.T, b *bundle, ids []int64) (int64, int64) {
			b.exec(t, `UPDATE audit.record SET mission = 'DEU' WHERE record_id = $1`, ids[1])
			return 2, ids[1]
		}, audit.ProblemOtherMission, false},
		{"link re-MACed with another key", func(t *testing.T, b *bundle, ids []int64) (int64, int64) {
			// The owner alters record 3, cuts the chain back to link 2 and has the rest
			// relinked by a chainer with a key of their own: every link is well formed,
			// none verifies under the application's key.
			b.exec(t, `UPDATE audit.record SET actor = 'staff-innocent' WHERE record_id = $1`, ids[2])
			b.exec(t, `DELETE FROM audit.link WHERE record_id > $1`, ids[1]) // DEU's later links too
			b.exec(t, `UPDATE audit.chain_cursor SET tx_id = r.tx_id, record_id = r.record_id FROM audit.record r WHERE r.record_id = $1`, ids[1])
			if _, err := audit.NewChainer(b.admin, newKey(t), audit.ChainerConfig{}).Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			return 3, ids[2]
		}, audit.ProblemAltered, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			pool := open(t, b.adminURL, "passage_returns")
			for i := range 8 {
				if err := record(ctx, pool, entry("NER", i)); err != nil {
					t.Fatal(err)
				}
				if err := record(ctx, pool, entry("DEU", i)); err != nil {
					t.Fatal(err)
				}
			}
			b.chain(t)
			if c := b.verify(t, "NER"); c.Broken != nil || c.Links != 8 {
				t.Fatalf("before tampering: %+v", c)
			}
			ids := b.recordIDs(t, "NER")
			pos, id := tt.tamper(t, b, ids)
			c := b.verify(t, "NER")
			want := &audit.Break{Mission: "NER", Position: pos, RecordID: id, Problem: tt.wantProblem}
			if c.Broken == nil || *c.Broken != *want {
				t.Errorf("verify after tampering: %v, want %v", c.Broken, want)
			}
			// The other mission's chain is untouched and still verifies.
			if d := b.verify(t, "DEU"); !tt.relinksAll && (d.Broken != nil || d.Links != 8) {
				t.Errorf("DEU after tampering with NER: %+v", d)
			}
		})
	}
}

func (b *bundle) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := b.admin.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestEntryFromCaller: an entry holds the caller's pseudonymous subject, role and mission,
// and the coded reason the handler set, nothing else of the request.
func TestEntryFromCaller(t *testing.T) {
	t.Parallel()
	who := auth.Claims{Subject: "staff-7", Role: auth.RoleSupervisor, Mission: "NER"}
	id := uuid.New()
	ctx := audit.WithReason(context.Background(), "CLOSURE_REASON_DUPLICATE")
	got := audit.For(ctx, who, "NER", id)
	want := audit.Entry{Mission: "NER", Actor: "staff-7", Role: "supervisor", CallerMission: "NER",
		AggregateID: id, Reason: "CLOSURE_REASON_DUPLICATE"}
	if got != want {
		t.Errorf("For = %+v, want %+v", got, want)
	}
}

// record writes e as a service does: in a batch that declared the record's mission first.
func record(ctx context.Context, q database.Querier, e audit.Entry) error {
	b := &pgx.Batch{}
	database.QueueMission(b, e.Mission)
	var st database.Statement
	audit.Add(&st, []audit.Entry{e})
	st.Queue(b)
	return q.SendBatch(ctx, b).Close()
}

// TestTransactionIDsOrderAsNumbers: the chainer compares transaction ids as numbers, not as
// their text ("10" sorts before "9"). Records stamped 9, 10 and 100 (written by the owner with
// explicit ids, far below the horizon, out of order) are chained 9, 10, 100 across batch
// boundaries, each once, and the chain verifies.
func TestTransactionIDsOrderAsNumbers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var ids []int64
	for i, tx := range []string{"100", "10", "9"} {
		e := entry("NER", i)
		var id int64
		if err := b.admin.QueryRow(ctx, `INSERT INTO audit.record
  (mission, actor, role, caller_mission, method, aggregate_id, reason, request_id, client_request_id, tx_id)
VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $9::text::xid8) RETURNING record_id`,
			e.Mission, e.Actor, e.Role, e.CallerMission, e.Method, e.AggregateID, e.RequestID, e.ClientRequestID, tx).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append([]int64{id}, ids...)
	}
	if err := audit.NewChainer(b.auditor, b.key, audit.ChainerConfig{BatchSize: 1}).CatchUp(ctx, time.Minute); err != nil {
		t.Fatalf("chain: %v", err)
	}
	if got := b.recordIDs(t, "NER"); !slices.Equal(got, ids) {
		t.Errorf("chained records %v, want %v (transaction ids 9, 10, 100)", got, ids)
	}
	if c := b.verify(t, "NER"); c.Links != 3 || c.Unchained != 0 || c.Broken != nil {
		t.Errorf("verify: %+v, want three links", c)
	}
}
