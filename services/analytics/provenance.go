package analytics

import (
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/ctdc"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/hxl"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// generator names the software in every export's provenance.
const generator = "passage"

// provenance is the Provenance of a release made at released from data as of asOf (zero when
// not known): generator and version filled in, the method's parameters left to the caller.
func provenance(method analyticsv1.ReleaseMethod, released, asOf time.Time) *analyticsv1.Provenance {
	p := &analyticsv1.Provenance{Method: method, ReleaseTime: timestamppb.New(released.UTC()),
		Generator: generator, GeneratorVersion: bootstrap.Version}
	if !asOf.IsZero() {
		p.DataAsOf = timestamppb.New(asOf.UTC())
	}
	return p
}

// provenanceColumn is one fact of a release's provenance as the column both exports end their
// rows with: its header in an HXL table, its name in the CTDC layout (camelCase, as the
// dataset's), its HXL hashtag, and its value. A fact the method does not have (k under
// differential privacy, epsilon under suppression) is an empty value, so that every export
// has the same columns.
type provenanceColumn struct {
	header, name, tag, value string
}

// provenanceColumns lays p out in a fixed order. Times are RFC 3339 in UTC, to the second.
// The hashtags are #meta (data about the data set) and #date with attributes that say which
// fact it is; +method, +k, +epsilon, +delta, +released, +as_of and +generator are not in the
// HXL dictionary, which allows them.
func provenanceColumns(p *analyticsv1.Provenance) []provenanceColumn {
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	when := func(t *timestamppb.Timestamp) string {
		if !t.IsValid() {
			return ""
		}
		return t.AsTime().UTC().Format(time.RFC3339)
	}
	k := ""
	if p.GetK() > 0 {
		k = strconv.Itoa(int(p.GetK()))
	}
	method := enumcode.Code(p.GetMethod())
	return []provenanceColumn{
		{"Release method", "releaseMethod", "#meta+method", method},
		{"k", "releaseK", "#meta+k", k},
		{"Epsilon", "releaseEpsilon", "#meta+epsilon", num(p.GetEpsilon())},
		{"Delta", "releaseDelta", "#meta+delta", num(p.GetDelta())},
		{"Release time", "releaseTime", "#date+released", when(p.GetReleaseTime())},
		{"Data as of", "dataAsOf", "#date+as_of", when(p.GetDataAsOf())},
		{"Generator", "generator", "#meta+generator", p.GetGenerator() + " " + p.GetGeneratorVersion()},
	}
}

// hxlMeta is p as the Meta columns of an HXL table.
func hxlMeta(p *analyticsv1.Provenance) []hxl.Meta {
	cols := provenanceColumns(p)
	out := make([]hxl.Meta, len(cols))
	for i, c := range cols {
		out[i] = hxl.Meta{Column: hxl.Column{Header: c.header, Tag: c.tag}, Value: c.value}
	}
	return out
}

// ctdcExtra is p as the extra columns of a CTDC release.
func ctdcExtra(p *analyticsv1.Provenance) []ctdc.Extra {
	cols := provenanceColumns(p)
	out := make([]ctdc.Extra, len(cols))
	for i, c := range cols {
		out[i] = ctdc.Extra{Name: c.name, Value: c.value}
	}
	return out
}
