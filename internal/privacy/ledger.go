package privacy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
)

// Role is the database role the ledger is kept with: the analytics service's.
const Role = "passage_analytics"

// The ledger's columns hold codes only (the table's CHECK constraints say the same).
var (
	// consumerPattern is a consumer's code: a data portal ("hdx"), a partner, a pseudonymous
	// staff id. No spaces and no '@', so neither a full name nor an e-mail address fits.
	consumerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	// whatPattern is a coded description of a query, e.g.
	// "measure=PERSONS_RETURNED;group_by=YEAR,SEX;years=2015". No spaces: not free text.
	whatPattern = regexp.MustCompile(`^[A-Za-z0-9_.:=,;/|+-]{1,512}$`)
)

// Ledger keeps the privacy budget every consumer of released figures has spent, per calendar
// year (UTC), in analytics.privacy_ledger.
type Ledger struct {
	db     *database.DB
	budget float64
	// beforeCommit, when set (by tests), runs after a spend is recorded and before its
	// transaction commits: the window in which an unserialized spend of the same consumer
	// would not see it.
	beforeCommit func()
}

// NewLedger returns the ledger kept in db (connected as Role), where each consumer may spend
// at most yearlyBudget ε a year (PASSAGE_DP_YEARLY_EPSILON sets it: [YearlyBudget]). A budget that is not a finite
// number above 0 refuses every spend.
func NewLedger(db *database.DB, yearlyBudget float64) *Ledger {
	return &Ledger{db: db, budget: yearlyBudget}
}

// Budget is the ε each consumer may spend a year.
func (l *Ledger) Budget() float64 { return l.budget }

// ledgerLock is the first key of the advisory lock that serializes a consumer's spends; the
// second is the hash of the consumer. Two consumers whose hashes collide only wait for each
// other.
const ledgerLock = 0x70726976 // "priv"

// Spend records a release of epsilon to consumer at time at (the service's clock: the release,
// not the data's period), described by what (a code, see whatPattern), and returns what the
// consumer has left for at's year. When the year's spends and this one would exceed the
// budget, nothing is recorded and the error is an *ExhaustedError (errors.Is
// ErrBudgetExhausted). The spend's audit record (HQ's chain, the release id as aggregate) is
// written in the same transaction, so ctx must carry the authenticated caller (ErrNoCaller).
// The same release asked twice is spent twice (see the package doc).
func (l *Ledger) Spend(ctx context.Context, consumer string, at time.Time, epsilon float64, what string) (remaining float64, err error) {
	who, ok := auth.FromContext(ctx)
	if !ok {
		return 0, ErrNoCaller
	}
	if err := validateSpend(consumer, at, epsilon, what); err != nil {
		return 0, err
	}
	budget, err := l.checkedBudget()
	if err != nil {
		return 0, err
	}
	year := at.UTC().Year()
	releaseID := uuid.New()
	err = l.db.MissionTx(ctx, auth.MissionHQ, func(tx pgx.Tx) error {
		// The lock is its own statement, taken before the year's sum is read: at READ
		// COMMITTED each statement reads the data committed when it starts, so the sum below
		// sees every spend of the consumer that held the lock before us. Taken in the same
		// statement as the sum, it would be read from a snapshot older than the lock.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, ledgerLock, consumer); err != nil {
			return fmt.Errorf("privacy: lock the consumer's budget: %w", err)
		}
		var spent float64
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(epsilon), 0)::float8 FROM analytics.privacy_ledger
WHERE consumer = $1 AND year = $2`, consumer, year).Scan(&spent); err != nil {
			return fmt.Errorf("privacy: read the year's spends: %w", err)
		}
		// The budget is compared in numeric, exactly: the year's rows, this spend and the
		// budget, each as the decimal its float64 prints as.
		var left *float64
		err := tx.QueryRow(ctx, `WITH spent AS (
  SELECT coalesce(sum(epsilon), 0) AS s FROM analytics.privacy_ledger WHERE consumer = $1 AND year = $2
), added AS (
  INSERT INTO analytics.privacy_ledger (release_id, consumer, at, year, epsilon, what)
  SELECT $3, $1, $4, $2, $5::numeric, $6 FROM spent WHERE s + $5::numeric <= $7::numeric
  RETURNING epsilon
)
SELECT ($7::numeric - s - epsilon)::float8 FROM spent, added`,
			consumer, year, releaseID, at, decimal(epsilon), what, decimal(budget)).Scan(&left)
		if errors.Is(err, pgx.ErrNoRows) {
			return &ExhaustedError{Year: year, Budget: budget, Spent: spent, Requested: epsilon}
		}
		if err != nil {
			return fmt.Errorf("privacy: record the spend: %w", err)
		}
		remaining = *left
		if l.beforeCommit != nil {
			l.beforeCommit()
		}
		return audit.Write(ctx, tx, audit.For(ctx, who, auth.MissionHQ, releaseID))
	})
	if err != nil {
		return 0, err
	}
	return remaining, nil
}

// Remaining returns what consumer has spent in year and what it has left.
func (l *Ledger) Remaining(ctx context.Context, consumer string, year int) (spent, remaining float64, err error) {
	if !consumerPattern.MatchString(consumer) {
		return 0, 0, invalid("consumer", "must be a code: letters, digits, '.', '_', ':', '-'")
	}
	if year < 1 || year > 9999 {
		return 0, 0, invalid("year", "must be a calendar year")
	}
	budget, err := l.checkedBudget()
	if err != nil {
		return 0, 0, err
	}
	// Subtracted in numeric, like the check in Spend: 1 - 0.8 is 0.2 here, not 0.19999999999999996.
	if err := l.db.Mission(auth.MissionHQ).QueryRow(ctx, `SELECT s::float8, greatest($3::numeric - s, 0)::float8
FROM (SELECT coalesce(sum(epsilon), 0) AS s FROM analytics.privacy_ledger WHERE consumer = $1 AND year = $2) spent`,
		consumer, year, decimal(budget)).Scan(&spent, &remaining); err != nil {
		return 0, 0, fmt.Errorf("privacy: read the year's spends: %w", err)
	}
	return spent, remaining, nil
}

// Entry is one recorded release.
type Entry struct {
	ReleaseID uuid.UUID
	Consumer  string
	At        time.Time
	Year      int
	Epsilon   float64
	What      string
}

// Releases lists consumer's releases in year, oldest first: what a data protection officer
// reads to see how a budget was spent.
func (l *Ledger) Releases(ctx context.Context, consumer string, year int) ([]Entry, error) {
	if !consumerPattern.MatchString(consumer) {
		return nil, invalid("consumer", "must be a code: letters, digits, '.', '_', ':', '-'")
	}
	rows, err := l.db.Mission(auth.MissionHQ).Query(ctx, `SELECT release_id, consumer, at, year, epsilon::float8, what
FROM analytics.privacy_ledger WHERE consumer = $1 AND year = $2 ORDER BY at, recorded_at, release_id`, consumer, year)
	if err != nil {
		return nil, fmt.Errorf("privacy: list releases: %w", err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Entry])
	if err != nil {
		return nil, fmt.Errorf("privacy: list releases: %w", err)
	}
	return entries, nil
}

func validateSpend(consumer string, at time.Time, epsilon float64, what string) error {
	switch {
	case !consumerPattern.MatchString(consumer):
		return invalid("consumer", "must be a code: letters, digits, '.', '_', ':', '-'")
	case !whatPattern.MatchString(what):
		return invalid("what", "must be a coded description: letters, digits and _.:=,;/|+- only")
	case at.IsZero() || at.UTC().Year() < 1 || at.UTC().Year() > 9999:
		return invalid("at", "must be the time of the release")
	case !(epsilon > 0) || epsilon > MaxEpsilon:
		return invalid("epsilon", fmt.Sprintf("must be above 0 and at most %g", MaxEpsilon))
	}
	return nil
}

// errBadBudget refuses every spend of a ledger configured without a usable budget.
var errBadBudget = errors.New("privacy: the yearly budget is not a finite number above 0")

func (l *Ledger) checkedBudget() (float64, error) {
	if !(l.budget > 0) || math.IsInf(l.budget, 0) {
		return 0, errBadBudget
	}
	return l.budget, nil
}

// decimal prints f as the shortest decimal that reads back as f, for a numeric parameter.
func decimal(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
