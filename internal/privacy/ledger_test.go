package privacy_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/privacy"
)

// release15 is when the tests' releases are made: a day of 2027.
var release15 = time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC)

type ledgerBundle struct {
	ledger *privacy.Ledger
	db     *database.DB
	pool   *pgxpool.Pool
	url    string
	// analyst is an HQ analyst's call, as the analytics service's handlers see it.
	analyst context.Context
}

func setupLedger(t *testing.T, budget float64) *ledgerBundle {
	t.Helper()
	b := &ledgerBundle{url: pgtest.New(t)}
	pool, err := database.Open(t.Context(), database.PoolConfig{AdminURL: b.url, Role: privacy.Role})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	b.pool, b.db = pool, database.NewDB(pool)
	b.ledger = privacy.NewLedger(b.db, budget)
	b.analyst = auth.WithClaims(t.Context(), auth.Claims{Subject: "staff-analyst", Role: auth.RoleAnalyst, Mission: auth.MissionHQ})
	return b
}

// owner runs fn on a connection as the database's owner, who sees every row.
func (b *ledgerBundle) owner(t *testing.T, fn func(ctx context.Context, conn *pgx.Conn)) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), b.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	fn(t.Context(), conn)
}

func (b *ledgerBundle) ownerInt(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	b.owner(t, func(ctx context.Context, conn *pgx.Conn) {
		if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
	})
	return n
}

func (b *ledgerBundle) spend(t *testing.T, consumer string, epsilon float64) float64 {
	t.Helper()
	left, err := b.ledger.Spend(b.analyst, consumer, release15, epsilon, "measure=PERSONS_RETURNED;group_by=YEAR,SEX")
	if err != nil {
		t.Fatalf("Spend(%s, %g): %v", consumer, epsilon, err)
	}
	return left
}

const near = 1e-12

// TestSpendUntilExhausted: a consumer spends within its yearly budget, is refused the spend
// that would exceed it (and nothing is recorded), may still spend what is left exactly, and
// neither another consumer nor the next year is affected.
func TestSpendUntilExhausted(t *testing.T) {
	t.Parallel()
	b := setupLedger(t, 1)
	if left := b.spend(t, "hdx", 0.4); math.Abs(left-0.6) > near {
		t.Errorf("remaining after 0.4 = %g, want 0.6", left)
	}
	if left := b.spend(t, "hdx", 0.4); math.Abs(left-0.2) > near {
		t.Errorf("remaining after 0.8 = %g, want 0.2", left)
	}

	_, err := b.ledger.Spend(b.analyst, "hdx", release15, 0.3, "measure=PERSONS_RETURNED;group_by=YEAR,SEX")
	var ex *privacy.ExhaustedError
	if !errors.Is(err, privacy.ErrBudgetExhausted) || !errors.As(err, &ex) {
		t.Fatalf("Spend past the budget: %v, want ErrBudgetExhausted", err)
	}
	if ex.Year != 2027 || math.Abs(ex.Spent-0.8) > near || ex.Budget != 1 || ex.Requested != 0.3 || math.Abs(ex.Remaining()-0.2) > near {
		t.Errorf("refusal = %+v, want 0.8 of 1 spent in 2027, 0.3 asked", *ex)
	}
	if n := b.ownerInt(t, `SELECT count(*) FROM analytics.privacy_ledger`); n != 2 {
		t.Errorf("%d releases recorded after the refusal, want 2", n)
	}
	if n := b.ownerInt(t, `SELECT count(*) FROM audit.record`); n != 2 {
		t.Errorf("%d audit records after the refusal, want 2 (a refused spend writes none)", n)
	}

	if left := b.spend(t, "hdx", 0.2); left != 0 {
		t.Errorf("remaining after spending all = %g, want 0", left)
	}
	if _, err := b.ledger.Spend(b.analyst, "hdx", release15, 1e-9, "measure=CASES_REGISTERED"); !errors.Is(err, privacy.ErrBudgetExhausted) {
		t.Errorf("Spend of a spent budget: %v, want ErrBudgetExhausted", err)
	}
	spent, left, err := b.ledger.Remaining(t.Context(), "hdx", 2027)
	if err != nil || spent != 1 || left != 0 {
		t.Errorf("Remaining(hdx, 2027) = %g, %g, %v; want 1, 0", spent, left, err)
	}

	// Another consumer has a budget of its own, and the next year starts afresh (at midnight
	// UTC on 1 January).
	if left := b.spend(t, "ctdc", 0.5); math.Abs(left-0.5) > near {
		t.Errorf("ctdc remaining = %g, want 0.5", left)
	}
	newYear := time.Date(2027, 12, 31, 23, 30, 0, 0, time.FixedZone("UTC-1", -3600))
	if left, err := b.ledger.Spend(b.analyst, "hdx", newYear, 0.7, "measure=CASES_REGISTERED"); err != nil || math.Abs(left-0.3) > near {
		t.Errorf("Spend in 2028 (UTC) = %g, %v; want 0.3 left", left, err)
	}
	spent, left, err = b.ledger.Remaining(t.Context(), "hdx", 2028)
	if err != nil || math.Abs(spent-0.7) > near || math.Abs(left-0.3) > near {
		t.Errorf("Remaining(hdx, 2028) = %g, %g, %v; want 0.7, 0.3", spent, left, err)
	}
	if spent, left, err := b.ledger.Remaining(t.Context(), "nobody", 2027); err != nil || spent != 0 || left != 1 {
		t.Errorf("Remaining(nobody) = %g, %g, %v; want 0, 1", spent, left, err)
	}
}

// TestSpendsAddUpExactly: ten spends of 0.1 fill a budget of 1 exactly (in double precision
// they would add up to 0.9999999999999999, or refuse the tenth), and the eleventh is refused.
func TestSpendsAddUpExactly(t *testing.T) {
	t.Parallel()
	b := setupLedger(t, 1)
	var left float64
	for range 10 {
		left = b.spend(t, "hdx", 0.1)
	}
	if left != 0 {
		t.Errorf("remaining after ten spends of 0.1 = %g, want 0", left)
	}
	if _, err := b.ledger.Spend(b.analyst, "hdx", release15, 0.1, "measure=CASES_REGISTERED"); !errors.Is(err, privacy.ErrBudgetExhausted) {
		t.Errorf("eleventh spend of 0.1: %v, want ErrBudgetExhausted", err)
	}
}

// TestSameReleaseTwiceSpendsTwice: asking for the same figures again is a new release, with new
// noise, and spends again; each release is listed and audited with its own id.
func TestSameReleaseTwiceSpendsTwice(t *testing.T) {
	t.Parallel()
	b := setupLedger(t, 10)
	const what = "measure=PERSONS_RETURNED;group_by=HOST_REGION;years=2015"
	for range 2 {
		if _, err := b.ledger.Spend(b.analyst, "hdx", release15, 1, what); err != nil {
			t.Fatal(err)
		}
	}
	spent, left, err := b.ledger.Remaining(t.Context(), "hdx", 2027)
	if err != nil || spent != 2 || left != 8 {
		t.Errorf("Remaining = %g, %g, %v; want 2 spent, 8 left", spent, left, err)
	}
	releases, err := b.ledger.Releases(t.Context(), "hdx", 2027)
	if err != nil || len(releases) != 2 {
		t.Fatalf("Releases = %v, %v; want 2", releases, err)
	}
	if releases[0].ReleaseID == releases[1].ReleaseID {
		t.Error("two releases share an id")
	}
	for _, r := range releases {
		if r.Consumer != "hdx" || r.Year != 2027 || r.Epsilon != 1 || r.What != what || !r.At.Equal(release15) {
			t.Errorf("release = %+v", r)
		}
		n := b.ownerInt(t, `SELECT count(*) FROM audit.record
WHERE aggregate_id = $1 AND mission = 'HQ' AND actor = 'staff-analyst' AND role = $2 AND caller_mission = 'HQ'`,
			r.ReleaseID, string(auth.RoleAnalyst))
		if n != 1 {
			t.Errorf("release %s has %d audit records in HQ's chain, want 1", r.ReleaseID, n)
		}
	}
}

// TestSpendRefusesBadArguments: each bad argument is refused as ErrInvalid naming it, and
// nothing is recorded; a spend outside an authenticated call is refused as unauditable.
func TestSpendRefusesBadArguments(t *testing.T) {
	t.Parallel()
	b := setupLedger(t, 10)
	const what = "measure=CASES_REGISTERED"
	for _, tc := range []struct {
		name     string
		consumer string
		at       time.Time
		epsilon  float64
		what     string
		field    string
	}{
		{"empty consumer", "", release15, 1, what, "consumer"},
		{"consumer with a space (a name)", "Amina Diallo", release15, 1, what, "consumer"},
		{"consumer as an e-mail address", "amina@example.org", release15, 1, what, "consumer"},
		{"consumer too long", strings.Repeat("x", 129), release15, 1, what, "consumer"},
		{"consumer with SQL", "hdx'; DELETE FROM analytics.privacy_ledger; --", release15, 1, what, "consumer"},
		{"free text as what", "hdx", release15, 1, "returns of Amina Diallo", "what"},
		{"empty what", "hdx", release15, 1, "", "what"},
		{"what too long", "hdx", release15, 1, strings.Repeat("a", 513), "what"},
		{"no time", "hdx", time.Time{}, 1, what, "at"},
		{"epsilon 0", "hdx", release15, 0, what, "epsilon"},
		{"epsilon negative", "hdx", release15, -0.5, what, "epsilon"},
		{"epsilon NaN", "hdx", release15, math.NaN(), what, "epsilon"},
		{"epsilon infinite", "hdx", release15, math.Inf(1), what, "epsilon"},
		{"epsilon above a release's maximum", "hdx", release15, privacy.MaxEpsilon + 0.5, what, "epsilon"},
	} {
		_, err := b.ledger.Spend(b.analyst, tc.consumer, tc.at, tc.epsilon, tc.what)
		var inv *privacy.InvalidError
		if !errors.As(err, &inv) || !errors.Is(err, privacy.ErrInvalid) || inv.Field != tc.field {
			t.Errorf("%s: %v, want an invalid %s", tc.name, err, tc.field)
		}
		if err != nil && (strings.Contains(err.Error(), "Amina") || strings.Contains(err.Error(), "DELETE")) {
			t.Errorf("%s: the error repeats the value: %v", tc.name, err)
		}
	}
	if _, err := b.ledger.Spend(t.Context(), "hdx", release15, 1, what); !errors.Is(err, privacy.ErrNoCaller) {
		t.Errorf("Spend without a caller: %v, want ErrNoCaller", err)
	}
	if _, _, err := b.ledger.Remaining(t.Context(), "Amina Diallo", 2027); !errors.Is(err, privacy.ErrInvalid) {
		t.Errorf("Remaining of a name: %v, want ErrInvalid", err)
	}
	if n := b.ownerInt(t, `SELECT count(*) FROM analytics.privacy_ledger`) + b.ownerInt(t, `SELECT count(*) FROM audit.record`); n != 0 {
		t.Errorf("%d rows recorded by refused spends, want none", n)
	}
}

// TestLedgerWithoutBudget: a ledger configured without a usable budget refuses every spend
// (and is no ErrBudgetExhausted: the fault is the configuration's, not the consumer's).
func TestLedgerWithoutBudget(t *testing.T) {
	t.Parallel()
	b := setupLedger(t, 1)
	for _, budget := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		l := privacy.NewLedger(b.db, budget)
		_, err := l.Spend(b.analyst, "hdx", release15, 0.1, "measure=CASES_REGISTERED")
		if err == nil || errors.Is(err, privacy.ErrBudgetExhausted) || errors.Is(err, privacy.ErrInvalid) {
			t.Errorf("Spend with a budget of %g: %v, want a configuration error", budget, err)
		}
	}
	if n := b.ownerInt(t, `SELECT count(*) FROM analytics.privacy_ledger`); n != 0 {
		t.Errorf("%d releases recorded without a budget", n)
	}
}

// TestLedgerIsHQs: the ledger is read and written only in transactions declared for HQ; the
// analytics role can add releases and read them, never change or remove one; no other
// service's role reaches it at all.
func TestLedgerIsHQs(t *testing.T) {
	t.Parallel()
	b := setupLedger(t, 10)
	b.spend(t, "hdx", 1)

	// Declared for a country mission, or for nothing: an empty ledger, and no spend.
	for _, declare := range []string{`SELECT set_config('passage.mission', 'NER', true)`, `SELECT 1`} {
		n, err := inTx(t.Context(), b.pool, declare, `SELECT count(*) FROM analytics.privacy_ledger`)
		if err != nil || n != 0 {
			t.Errorf("after %q: %d releases visible (%v), want none", declare, n, err)
		}
		_, err = inTx(t.Context(), b.pool, declare, `WITH i AS (INSERT INTO analytics.privacy_ledger (release_id, consumer, at, year, epsilon, what)
VALUES (gen_random_uuid(), 'hdx', now(), extract(year FROM now() AT TIME ZONE 'UTC'), 5, 'x') RETURNING 1) SELECT count(*) FROM i`)
		if code(err) != "42501" {
			t.Errorf("after %q: insert gave %v, want a row-level security refusal (42501)", declare, err)
		}
	}

	// Declared for HQ: no UPDATE, DELETE or TRUNCATE, so a recorded spend stays spent.
	hq := `SELECT set_config('passage.mission', 'HQ', true)`
	for _, change := range []string{
		`WITH u AS (UPDATE analytics.privacy_ledger SET epsilon = 0.001 RETURNING 1) SELECT count(*) FROM u`,
		`WITH d AS (DELETE FROM analytics.privacy_ledger RETURNING 1) SELECT count(*) FROM d`,
	} {
		if _, err := inTx(t.Context(), b.pool, hq, change); code(err) != "42501" {
			t.Errorf("%s: %v, want permission denied (42501)", change, err)
		}
	}
	if _, err := b.pool.Exec(t.Context(), `TRUNCATE analytics.privacy_ledger`); code(err) != "42501" {
		t.Errorf("TRUNCATE: %v, want permission denied (42501)", err)
	}
	if n, err := inTx(t.Context(), b.pool, hq, `SELECT count(*) FROM analytics.privacy_ledger`); err != nil || n != 1 {
		t.Errorf("HQ sees %d releases (%v), want 1", n, err)
	}

	for _, role := range []string{"passage_intake", "passage_returns", "passage_trafficking", "passage_hasm", "passage_auditor"} {
		pool, err := database.Open(t.Context(), database.PoolConfig{AdminURL: b.url, Role: role, MaxConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inTx(t.Context(), pool, hq, `SELECT count(*) FROM analytics.privacy_ledger`); code(err) != "42501" {
			t.Errorf("%s reads the ledger: %v, want permission denied (42501)", role, err)
		}
		pool.Close()
	}
}

// inTx runs declare, then query (a count), in a transaction it rolls back.
func inTx(ctx context.Context, pool *pgxpool.Pool, declare, query string) (int, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, declare); err != nil {
		return 0, err
	}
	var n int
	err = tx.QueryRow(ctx, query).Scan(&n)
	return n, err
}

func code(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// BenchmarkSpend is one recorded release (lock, sum, insert, audit record, commit) on the
// local Postgres, each to a consumer of its own so that the budget never runs out.
func BenchmarkSpend(b *testing.B) {
	url := pgtest.New(b)
	pool, err := database.Open(b.Context(), database.PoolConfig{AdminURL: url, Role: privacy.Role})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	l := privacy.NewLedger(database.NewDB(pool), privacy.DefaultYearlyEpsilon)
	ctx := auth.WithClaims(b.Context(), auth.Claims{Subject: "staff-analyst", Role: auth.RoleAnalyst, Mission: auth.MissionHQ})
	i := 0
	for b.Loop() {
		i++
		if _, err := l.Spend(ctx, fmt.Sprintf("consumer-%d", i), release15, 0.5, "measure=PERSONS_RETURNED;group_by=YEAR"); err != nil {
			b.Fatal(err)
		}
	}
}
