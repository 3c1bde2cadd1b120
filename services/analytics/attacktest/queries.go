package attacktest

import (
	"slices"
	"strconv"

	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// Plan says which requests Queries lists.
type Plan struct {
	// MaxGroupBy bounds the dimensions grouped by (the API takes up to four).
	MaxGroupBy int
	// Grid keeps to the "safe practice": whole years (one year as a filter, or
	// none) and no other filter; whole countries and regions are the group-bys.
	Grid bool
	// Pairs adds filters of one year with one value of another dimension.
	Pairs bool
}

// Queries lists the requests an analyst would send for measure over d: every group-by of
// 0..MaxGroupBy of the domain's dimensions (a country and its region included), under each
// filter: none; one year; every year range of two years or more; and, unless Grid, one value
// of a dimension, every value but one, and with Pairs one year with one value.
func Queries(d *Domain, measure analyticsv1.Measure, p Plan) []*analyticsv1.AggregateRequest {
	filters := []*analyticsv1.Filter{nil}
	years := d.Values(analyticsv1.Dimension_DIMENSION_YEAR)
	var yearFilters []*analyticsv1.Filter
	for i, y := range years {
		n, _ := strconv.Atoi(y)
		yearFilters = append(yearFilters, &analyticsv1.Filter{YearFrom: int32(n), YearTo: int32(n)})
		for _, z := range years[i+1:] {
			m, _ := strconv.Atoi(z)
			if i > 0 || z != years[len(years)-1] {
				filters = append(filters, &analyticsv1.Filter{YearFrom: int32(n), YearTo: int32(m)})
			}
		}
	}
	filters = append(filters, yearFilters...)
	if !p.Grid {
		for _, dim := range d.Dimensions() {
			if dim == analyticsv1.Dimension_DIMENSION_YEAR || filterOf(dim, nil) == nil {
				continue
			}
			vs := d.Values(dim)
			for i, v := range vs {
				filters = append(filters, filterOf(dim, []string{v}))
				if len(vs) > 2 {
					filters = append(filters, filterOf(dim, slices.Delete(slices.Clone(vs), i, i+1)))
				}
				if p.Pairs {
					for _, y := range yearFilters {
						f := filterOf(dim, []string{v})
						f.YearFrom, f.YearTo = y.YearFrom, y.YearTo
						filters = append(filters, f)
					}
				}
			}
		}
	}
	var out []*analyticsv1.AggregateRequest
	for _, g := range subsets(d.Dimensions(), p.MaxGroupBy) {
		for _, f := range filters {
			out = append(out, &analyticsv1.AggregateRequest{Measure: measure, GroupBy: g, Filter: f})
		}
	}
	return out
}

// filterOf filters dim to vs.
func filterOf(dim analyticsv1.Dimension, vs []string) *analyticsv1.Filter {
	f := &analyticsv1.Filter{}
	switch dim {
	case analyticsv1.Dimension_DIMENSION_PROGRAMME:
		for _, v := range vs {
			f.Programmes = append(f.Programmes, commonv1.Programme(commonv1.Programme_value["PROGRAMME_"+v]))
		}
	case analyticsv1.Dimension_DIMENSION_HOST_COUNTRY:
		f.HostCountries = vs
	case analyticsv1.Dimension_DIMENSION_HOST_REGION:
		f.HostRegions = vs
	case analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY:
		f.ReturnCountries = vs
	case analyticsv1.Dimension_DIMENSION_RETURN_REGION:
		f.ReturnRegions = vs
	case analyticsv1.Dimension_DIMENSION_NATIONALITY:
		f.Nationalities = vs
	default:
		return nil // SEX, AGE_BAND: the API has no filter for them
	}
	return f
}

// subsets lists the subsets of dims of at most n elements, in order, the empty one first.
func subsets(dims []analyticsv1.Dimension, n int) [][]analyticsv1.Dimension {
	out := [][]analyticsv1.Dimension{nil}
	var walk func(from int, cur []analyticsv1.Dimension)
	walk = func(from int, cur []analyticsv1.Dimension) {
		for i := from; i < len(dims); i++ {
			next := append(slices.Clone(cur), dims[i])
			out = append(out, next)
			if len(next) < n {
				walk(i+1, next)
			}
		}
	}
	if n > 0 {
		walk(0, nil)
	}
	return out
}
