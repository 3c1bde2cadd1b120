package demo

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// rollupKey is one row of analytics.rollup, every column but the count and the transaction:
// codes as the projector stores them, sets as their sorted codes joined by commas.
type rollupKey struct {
	measure                                         string
	year                                            int
	programme, sex, ageBand, nationality, host, ret string
	vulnerabilities, assistance, exploitation       string
	status, partnerType, direction                  string
}

// walkMeasures are the measures of the walk-through, the ones planRollup gives.
var walkMeasures = []string{"PERSONS_RETURNED", "VICTIMS_IDENTIFIED", "REFERRALS"}

// planRollup is what the analytics projector records of the walk-through's measures when p
// is loaded through the services (Loader.Load): every traveller of an AVRR or HASM departure
// as a person returned, every victim identified, and every victim's referral under the
// status it ends in, dated referralYear (a referral is dated when it is created, not in the
// plan's year). TestLoadThroughTheServices checks it against the rollup the real projector
// writes, so that the walk-through can be tried at larger scales with the plan written
// straight into the table, as a bulk loader does.
func planRollup(p *Plan, referralYear int) map[rollupKey]int64 {
	out := map[rollupKey]int64{}
	for _, c := range p.AVRR {
		for _, pr := range c.People {
			k := personKey("PERSONS_RETURNED", c.Departed.Year(), "AVRR", pr, c.Registered, c.Vulnerabilities)
			k.host, k.ret = c.Host, c.Return
			out[k]++
		}
	}
	for _, c := range p.HASM {
		if !c.Approve {
			continue
		}
		for _, pr := range c.People {
			k := personKey("PERSONS_RETURNED", c.Departed.Year(), "HASM", pr, c.Registered, nil)
			k.host, k.ret = c.Host, c.Nationality
			out[k]++
		}
	}
	victim := []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}
	for _, v := range p.Victim {
		if v.Identification == traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM {
			k := personKey("VICTIMS_IDENTIFIED", v.Screened.Year(), "VOT", v.Person, v.Registered, victim)
			k.host, k.exploitation = v.Host, codeSet(v.Exploitation.GetTypes())
			out[k]++
		}
		k := personKey("REFERRALS", referralYear, "VOT", v.Person, v.Registered, victim)
		k.host = v.Host
		k.status = enumcode.Code(v.Referral)
		k.partnerType = enumcode.Code(p.Partners[v.ReferTo].Category)
		k.direction = "OUTBOUND"
		out[k]++
	}
	return out
}

// personKey describes pr as the projector does: sex, the age band intake gives at
// registration, nationality, the case's vulnerabilities.
func personKey(measure string, year int, programme string, pr Person, registered time.Time, vs []commonv1.Vulnerability) rollupKey {
	return rollupKey{measure: measure, year: year, programme: programme, sex: enumcode.Code(pr.Sex),
		ageBand:     enumcode.Code(ageband.At(civildate.FromTime(pr.Born), registered)),
		nationality: pr.Nationality, vulnerabilities: codeSet(vs)}
}

// codeSet is a set of enum values as the rollup stores it (here joined by commas).
func codeSet[E enumcode.Enum](vs []E) string {
	cs := enumcode.Codes(vs)
	slices.Sort(cs)
	return strings.Join(slices.Compact(cs), ",")
}

// splitSet is codeSet's set again, as a text[] (never NULL).
func splitSet(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

var rollupColumns = []string{"measure", "year", "programme", "sex", "age_band", "nationality", "host_country",
	"return_country", "vulnerabilities", "assistance_type", "exploitation_types", "referral_status", "partner_type",
	"referral_direction", "persons"}

// writeRollup adds rows to analytics.rollup as the database's owner, in one COPY, as a bulk
// loader does; the running analytics service picks them up at its next refresh.
func writeRollup(t *testing.T, env *testserver.Env, rows map[rollupKey]int64) {
	t.Helper()
	src := make([][]any, 0, len(rows))
	for k, n := range rows {
		src = append(src, []any{k.measure, k.year, k.programme, k.sex, k.ageBand, k.nationality, k.host, k.ret,
			splitSet(k.vulnerabilities), k.assistance, splitSet(k.exploitation), k.status, k.partnerType, k.direction, n})
	}
	env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"analytics", "rollup"}, rollupColumns, pgx.CopyFromRows(src)); err != nil {
			t.Fatalf("write the rollup: %v", err)
		}
	})
}

// readRollup reads the rows of analytics.rollup of the walk-through's measures that count
// someone.
func readRollup(t *testing.T, env *testserver.Env) map[rollupKey]int64 {
	t.Helper()
	out := map[rollupKey]int64{}
	env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, err := conn.Query(ctx, `SELECT measure, year, programme, sex, age_band, nationality, host_country,
return_country, array_to_string(vulnerabilities, ','), assistance_type, array_to_string(exploitation_types, ','),
referral_status, partner_type, referral_direction, persons
FROM analytics.rollup WHERE measure = ANY($1) AND persons <> 0`, walkMeasures)
		if err != nil {
			t.Fatal(err)
		}
		var k rollupKey
		var n int64
		if _, err := pgx.ForEachRow(rows, []any{&k.measure, &k.year, &k.programme, &k.sex, &k.ageBand, &k.nationality,
			&k.host, &k.ret, &k.vulnerabilities, &k.assistance, &k.exploitation, &k.status, &k.partnerType, &k.direction, &n},
			func() error { out[k] += n; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	return out
}
