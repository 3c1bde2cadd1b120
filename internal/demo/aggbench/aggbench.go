package aggbench

import (
	"math/rand/v2"
	"slices"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// Dims are the dimensions each measure may be grouped by (as the service accepts them:
// a return country only where people returned, assistance type for persons assisted,
// exploitation type for victims identified).
var Dims = func() map[analyticsv1.Measure][]analyticsv1.Dimension {
	person := []analyticsv1.Dimension{
		analyticsv1.Dimension_DIMENSION_YEAR, analyticsv1.Dimension_DIMENSION_PROGRAMME, analyticsv1.Dimension_DIMENSION_SEX,
		analyticsv1.Dimension_DIMENSION_AGE_BAND, analyticsv1.Dimension_DIMENSION_NATIONALITY,
		analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, analyticsv1.Dimension_DIMENSION_HOST_REGION,
		analyticsv1.Dimension_DIMENSION_VULNERABILITY,
	}
	with := func(extra ...analyticsv1.Dimension) []analyticsv1.Dimension {
		return append(slices.Clone(person), extra...)
	}
	ret := []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY, analyticsv1.Dimension_DIMENSION_RETURN_REGION}
	return map[analyticsv1.Measure][]analyticsv1.Dimension{
		analyticsv1.Measure_MEASURE_CASES_REGISTERED:       with(),
		analyticsv1.Measure_MEASURE_PERSONS_RETURNED:       with(ret...),
		analyticsv1.Measure_MEASURE_PERSONS_ASSISTED:       with(append(ret, analyticsv1.Dimension_DIMENSION_ASSISTANCE_TYPE)...),
		analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED:     with(analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE),
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_APPROVED: with(),
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_REJECTED: with(),
	}
}()

// Request draws a random Aggregate: a measure, 0 to maxDims distinct dimensions that
// make sense for it, and, one time in two, a filter (a year range, a programme, a host
// region), as an analyst's questions vary.
func Request(r *rand.Rand, maxDims int) *analyticsv1.AggregateRequest {
	measures := []analyticsv1.Measure{
		analyticsv1.Measure_MEASURE_CASES_REGISTERED, analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
		analyticsv1.Measure_MEASURE_PERSONS_ASSISTED, analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED,
		analyticsv1.Measure_MEASURE_HASM_REQUESTS_APPROVED, analyticsv1.Measure_MEASURE_HASM_REQUESTS_REJECTED,
	}
	m := measures[r.IntN(len(measures))]
	dims := slices.Clone(Dims[m])
	r.Shuffle(len(dims), func(i, j int) { dims[i], dims[j] = dims[j], dims[i] })
	req := &analyticsv1.AggregateRequest{Measure: m, GroupBy: dims[:r.IntN(maxDims+1)]}
	if r.IntN(2) == 0 {
		f := &analyticsv1.Filter{}
		switch r.IntN(3) {
		case 0:
			from := int32(2010 + r.IntN(16))
			f.YearFrom, f.YearTo = from, min(from+int32(r.IntN(4)), 2025)
		case 1:
			f.Programmes = []commonv1.Programme{commonv1.Programme(1 + r.IntN(3))}
		case 2:
			f.HostRegions = []string{[]string{"EEA", "MENA", "APAC", "SEEECA"}[r.IntN(4)]}
		}
		req.Filter = f
	}
	return req
}
