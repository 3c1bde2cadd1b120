package aggbench

import (
	"math/rand/v2"
	"slices"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// Tables are, per measure, the sets of dimensions HQ analytics releases exact counts of
// together (services/analytics/published.go; a test there keeps the two the same), each with
// the year and the programme: a question combines the dimensions of one table only.
var Tables = func() map[analyticsv1.Measure][][]analyticsv1.Dimension {
	const (
		hostC   = analyticsv1.Dimension_DIMENSION_HOST_COUNTRY
		hostR   = analyticsv1.Dimension_DIMENSION_HOST_REGION
		retC    = analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY
		retR    = analyticsv1.Dimension_DIMENSION_RETURN_REGION
		sex     = analyticsv1.Dimension_DIMENSION_SEX
		nat     = analyticsv1.Dimension_DIMENSION_NATIONALITY
		age     = analyticsv1.Dimension_DIMENSION_AGE_BAND
		vuln    = analyticsv1.Dimension_DIMENSION_VULNERABILITY
		assist  = analyticsv1.Dimension_DIMENSION_ASSISTANCE_TYPE
		exploit = analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE
	)
	person := func(where ...analyticsv1.Dimension) [][]analyticsv1.Dimension {
		return [][]analyticsv1.Dimension{where, {sex}, {nat}, {age}, {vuln}}
	}
	return map[analyticsv1.Measure][][]analyticsv1.Dimension{
		analyticsv1.Measure_MEASURE_CASES_REGISTERED:       person(hostC, hostR),
		analyticsv1.Measure_MEASURE_PERSONS_RETURNED:       person(hostC, hostR, retC, retR),
		analyticsv1.Measure_MEASURE_PERSONS_ASSISTED:       append(person(hostC, hostR, retC, retR), []analyticsv1.Dimension{assist}),
		analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED:     append(person(hostC, hostR), []analyticsv1.Dimension{exploit}),
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_APPROVED: person(hostC, hostR),
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_REJECTED: person(hostC, hostR),
	}
}()

// Request draws a random Aggregate: a measure, 0 to maxDims distinct dimensions of one of
// its tables (with the year and the programme), and, one time in two, a filter (a year
// range, a programme, a host region where the table has host countries), as an analyst's
// questions vary.
func Request(r *rand.Rand, maxDims int) *analyticsv1.AggregateRequest {
	measures := []analyticsv1.Measure{
		analyticsv1.Measure_MEASURE_CASES_REGISTERED, analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
		analyticsv1.Measure_MEASURE_PERSONS_ASSISTED, analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED,
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_APPROVED, analyticsv1.Measure_MEASURE_HASM_REQUESTS_REJECTED,
	}
	m := measures[r.IntN(len(measures))]
	table := Tables[m][r.IntN(len(Tables[m]))]
	dims := append([]analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_YEAR, analyticsv1.Dimension_DIMENSION_PROGRAMME}, table...)
	r.Shuffle(len(dims), func(i, j int) { dims[i], dims[j] = dims[j], dims[i] })
	req := &analyticsv1.AggregateRequest{Measure: m, GroupBy: dims[:r.IntN(min(maxDims, len(dims))+1)]}
	if r.IntN(2) == 0 {
		f := &analyticsv1.Filter{}
		switch r.IntN(3) {
		case 0:
			from := int32(2010 + r.IntN(16))
			f.YearFrom, f.YearTo = from, min(from+int32(r.IntN(4)), 2025)
		case 1:
			f.Programmes = []commonv1.Programme{commonv1.Programme(1 + r.IntN(3))}
		case 2:
			if slices.Contains(table, analyticsv1.Dimension_DIMENSION_HOST_COUNTRY) {
				f.HostRegions = []string{[]string{"EEA", "MENA", "APAC", "SEEECA"}[r.IntN(4)]}
			} else {
				f.YearFrom, f.YearTo = 2015, 2015
			}
		}
		req.Filter = f
	}
	return req
}
