package retention

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/envconfig"
)

// Policy is how many whole years after closure each programme keeps identities, by the
// programme's code in intake."case" ("AVRR", "VOT", "HASM"). A programme missing from the
// policy keeps them for ever: forgetting to configure one never erases anyone.
type Policy map[string]int

// Years is one programme's retention period, in whole years after closure: from 1 to 100.
type Years int

// UnmarshalText reads a whole number of years from 1 to 100.
func (y *Years) UnmarshalText(b []byte) error {
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 1 || n > 100 {
		return envconfig.Reason("want a whole number of years between 1 and 100")
	}
	*y = Years(n)
	return nil
}

// Interval is how often the retention job runs: at least a minute, or 0 ("off") for never.
type Interval time.Duration

// UnmarshalText reads "off" or a Go duration of at least 1m.
func (i *Interval) UnmarshalText(b []byte) error {
	if string(b) == "off" {
		*i = 0
		return nil
	}
	d, err := time.ParseDuration(string(b))
	if err != nil || d < time.Minute {
		return envconfig.Reason(`want a duration of at least 1m, or "off"`)
	}
	*i = Interval(d)
	return nil
}

// Settings are the retention job's settings, read by internal/envconfig. The periods are
// starting points, not advice: the data protection officer sets them. VoT is kept longest,
// because victims' cases can be reopened for prosecutions and compensation claims years
// after assistance ended.
type Settings struct {
	AVRR     Years    `env:"PASSAGE_RETENTION_YEARS_AVRR" default:"5" help:"years after an AVRR case's closure before its identities are erased"`
	VOT      Years    `env:"PASSAGE_RETENTION_YEARS_VOT" default:"10" help:"the same for VoT, longest: victims' cases reopen for prosecutions and compensation claims"`
	HASM     Years    `env:"PASSAGE_RETENTION_YEARS_HASM" default:"5" help:"the same for HASM"`
	Interval Interval `env:"PASSAGE_RETENTION_INTERVAL" default:"24h" help:"how often the retention job runs ({off} disables it); at least {1m}"`
}

// DefaultPolicy is the policy of Settings' defaults, as a server runs with when no
// PASSAGE_RETENTION_YEARS_* is set.
var DefaultPolicy = func() Policy {
	var s Settings
	if err := envconfig.Defaults(&s); err != nil {
		panic("retention: the defaults in Settings' tags do not parse: " + err.Error())
	}
	return s.Policy()
}()

// Policy is the settings' periods by programme code.
func (s Settings) Policy() Policy {
	return Policy{"AVRR": int(s.AVRR), "VOT": int(s.VOT), "HASM": int(s.HASM)}
}

func (p Policy) arrays() ([]string, []int32) {
	programmes := make([]string, 0, len(p))
	for k := range p {
		programmes = append(programmes, k)
	}
	slices.Sort(programmes)
	years := make([]int32, len(programmes))
	for i, k := range programmes {
		years[i] = int32(p[k])
	}
	return programmes, years
}

// Due is a person whose identity the policy says to erase.
type Due struct {
	SubjectID uuid.UUID
	Mission   string
	// Programme of the case that closed last, for the report.
	Programme string
}

// dueSQL selects the people of the vault (not yet erased) who belong to at least one case,
// and all of whose cases are closed for longer than their programme's period at $3. A case
// of a programme without a period keeps its people. The programme reported is the one of
// the case closed last. $4, when not null, restricts the look-up to one person.
const dueSQL = `WITH policy AS (
  SELECT * FROM unnest($1::text[], $2::int[]) AS p(programme, years)
)
SELECT DISTINCT ON (i.subject_id) i.subject_id, i.mission, c.programme
FROM vault.identity i
JOIN intake.case_member m ON m.subject_id = i.subject_id
JOIN intake."case" c ON c.case_id = m.case_id
WHERE ($4::uuid IS NULL OR i.subject_id = $4)
AND NOT EXISTS (
  SELECT FROM intake.case_member m2
  JOIN intake."case" c2 ON c2.case_id = m2.case_id
  LEFT JOIN policy p ON p.programme = c2.programme
  WHERE m2.subject_id = i.subject_id
    AND (c2.status <> 'CLOSED' OR p.years IS NULL OR c2.closed_at > $3::timestamptz - make_interval(years => p.years))
)
ORDER BY i.subject_id, c.closed_at DESC`

// FindDue returns up to limit people due for erasure at now.
func FindDue(ctx context.Context, q database.Querier, p Policy, now time.Time, limit int) ([]Due, error) {
	programmes, years := p.arrays()
	rows, err := q.Query(ctx, dueSQL+` LIMIT $5`, programmes, years, now, nil, limit)
	if err != nil {
		return nil, fmt.Errorf("retention: find people due: %w", err)
	}
	var out []Due
	var d Due
	_, err = pgx.ForEachRow(rows, []any{&d.SubjectID, &d.Mission, &d.Programme}, func() error {
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retention: find people due: %w", err)
	}
	return out, nil
}

// IsDue reports whether one person is still due at now: the erasing transaction checks again
// under its locks, since a case may have been opened for the person meanwhile.
func IsDue(ctx context.Context, q database.Querier, p Policy, now time.Time, subject uuid.UUID) (bool, error) {
	programmes, years := p.arrays()
	var due bool
	err := q.QueryRow(ctx, `SELECT EXISTS (`+dueSQL+`)`, programmes, years, now, subject).Scan(&due)
	if err != nil {
		return false, fmt.Errorf("retention: check a person: %w", err)
	}
	return due, nil
}

// Count is one line of the dry-run report: how many people of a mission, by the programme
// of their last closed case, are due for erasure. Counts only, never a person.
type Count struct {
	Mission   string
	Programme string
	Persons   int64
}

// Report counts the people due for erasure at now, by mission and programme.
func Report(ctx context.Context, q database.Querier, p Policy, now time.Time) ([]Count, error) {
	programmes, years := p.arrays()
	rows, err := q.Query(ctx, `SELECT mission, programme, count(*) FROM (`+dueSQL+`) d
GROUP BY mission, programme ORDER BY mission, programme`, programmes, years, now, nil)
	if err != nil {
		return nil, fmt.Errorf("retention: report: %w", err)
	}
	var out []Count
	var c Count
	_, err = pgx.ForEachRow(rows, []any{&c.Mission, &c.Programme, &c.Persons}, func() error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retention: report: %w", err)
	}
	return out, nil
}
