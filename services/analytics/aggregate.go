package analytics

import (
	"context"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/region"
	"github.com/passage-cm/passage/internal/rpcerr"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	"github.com/passage-cm/passage/services/analytics/cube"
)

// DefaultK is the smallest count released by default, as the CTDC does.
const DefaultK = 11

// dims maps the contract's dimensions to the cube's.
var dims = map[analyticsv1.Dimension]cube.Dim{
	analyticsv1.Dimension_DIMENSION_YEAR:               cube.Year,
	analyticsv1.Dimension_DIMENSION_PROGRAMME:          cube.Programme,
	analyticsv1.Dimension_DIMENSION_SEX:                cube.Sex,
	analyticsv1.Dimension_DIMENSION_AGE_BAND:           cube.AgeBand,
	analyticsv1.Dimension_DIMENSION_NATIONALITY:        cube.Nationality,
	analyticsv1.Dimension_DIMENSION_HOST_COUNTRY:       cube.HostCountry,
	analyticsv1.Dimension_DIMENSION_HOST_REGION:        cube.HostRegion,
	analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY:     cube.ReturnCountry,
	analyticsv1.Dimension_DIMENSION_RETURN_REGION:      cube.ReturnRegion,
	analyticsv1.Dimension_DIMENSION_VULNERABILITY:      cube.Vulnerability,
	analyticsv1.Dimension_DIMENSION_ASSISTANCE_TYPE:    cube.AssistanceType,
	analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE:  cube.ExploitationType,
	analyticsv1.Dimension_DIMENSION_REFERRAL_STATUS:    cube.ReferralStatus,
	analyticsv1.Dimension_DIMENSION_PARTNER_TYPE:       cube.PartnerType,
	analyticsv1.Dimension_DIMENSION_REFERRAL_DIRECTION: cube.ReferralDirection,
}

// measures maps the contract's measures to their stored codes.
var measures = map[analyticsv1.Measure]string{
	analyticsv1.Measure_MEASURE_CASES_REGISTERED:       "CASES_REGISTERED",
	analyticsv1.Measure_MEASURE_PERSONS_RETURNED:       "PERSONS_RETURNED",
	analyticsv1.Measure_MEASURE_PERSONS_ASSISTED:       "PERSONS_ASSISTED",
	analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED:     "VICTIMS_IDENTIFIED",
	analyticsv1.Measure_MEASURE_HASM_REQUESTS_APPROVED: "HASM_REQUESTS_APPROVED",
	analyticsv1.Measure_MEASURE_HASM_REQUESTS_REJECTED: "HASM_REQUESTS_REJECTED",
	analyticsv1.Measure_MEASURE_REFERRALS:              "REFERRALS",
}

// person are the dimensions every measure has: who was counted, when, where from.
var person = []cube.Dim{cube.Year, cube.Programme, cube.Sex, cube.AgeBand, cube.Nationality,
	cube.HostCountry, cube.HostRegion, cube.Vulnerability}

func with(extra ...cube.Dim) map[cube.Dim]bool {
	m := map[cube.Dim]bool{}
	for _, d := range append(append([]cube.Dim{}, person...), extra...) {
		m[d] = true
	}
	return m
}

// meaningful lists the dimensions that make sense for each measure: a return country only
// where people returned (and for AVRR reintegration assistance, delivered in it), the type of
// assistance for persons assisted, the type of exploitation for victims identified, the
// status, partner type and direction for referrals (whose person dimensions describe the
// principal of the case referred).
var meaningful = map[string]map[cube.Dim]bool{
	"CASES_REGISTERED":       with(),
	"PERSONS_RETURNED":       with(cube.ReturnCountry, cube.ReturnRegion),
	"PERSONS_ASSISTED":       with(cube.AssistanceType, cube.ReturnCountry, cube.ReturnRegion),
	"VICTIMS_IDENTIFIED":     with(cube.ExploitationType),
	"HASM_REQUESTS_APPROVED": with(),
	"HASM_REQUESTS_REJECTED": with(),
	"REFERRALS":              with(cube.ReferralStatus, cube.PartnerType, cube.ReferralDirection),
}

// unboundedPerPerson lists the measures one person can count in any number of times (a
// person may be referred again and again). Differential privacy needs a bound on what one
// person contributes to a release, so it is not offered for them; suppression is.
var unboundedPerPerson = map[string]bool{"REFERRALS": true}

// aggregateQuery is a validated Aggregate or ExportAggregate request.
type aggregateQuery struct {
	measure string
	groupBy []analyticsv1.Dimension
	query   cube.Query
}

// parseAggregate checks what protovalidate cannot (a dimension meaningless for the measure,
// unknown countries and regions) and builds the cube query. Violations name the field.
func parseAggregate(m analyticsv1.Measure, groupBy []analyticsv1.Dimension, f *analyticsv1.Filter) (aggregateQuery, error) {
	var v []*errdetails.BadRequest_FieldViolation
	measure, ok := measures[m]
	if !ok {
		return aggregateQuery{}, rpcerr.InvalidArgument(rpcerr.FieldViolation("measure", "unknown measure"))
	}
	q := aggregateQuery{measure: measure, groupBy: groupBy, query: cube.Query{Measure: measure, Filter: map[cube.Dim][]string{}}}
	seen := map[cube.Dim]bool{}
	for i, d := range groupBy {
		cd, ok := dims[d]
		switch {
		case !ok:
			v = append(v, rpcerr.FieldViolation("group_by["+strconv.Itoa(i)+"]", "unknown dimension"))
		case !meaningful[measure][cd]:
			v = append(v, rpcerr.FieldViolation("group_by["+strconv.Itoa(i)+"]",
				enumcode.Code(d)+" has no meaning for "+measure))
		case seen[cd]:
			v = append(v, rpcerr.FieldViolation("group_by["+strconv.Itoa(i)+"]", "repeated"))
		}
		seen[cd] = true
		q.query.GroupBy = append(q.query.GroupBy, cd)
	}
	if len(groupBy) > 4 {
		v = append(v, rpcerr.FieldViolation("group_by", "at most 4 dimensions"))
	}
	if f.GetYearFrom() != 0 && f.GetYearTo() != 0 && f.GetYearFrom() > f.GetYearTo() {
		v = append(v, rpcerr.FieldViolation("filter.year_from", "must not be after year_to"))
	}
	q.query.YearFrom, q.query.YearTo = int(f.GetYearFrom()), int(f.GetYearTo())
	if ps := f.GetProgrammes(); len(ps) > 0 {
		q.query.Filter[cube.Programme] = enumcode.Codes(ps)
		for i, p := range ps {
			if p == commonv1.Programme_PROGRAMME_UNSPECIFIED {
				v = append(v, rpcerr.FieldViolation("filter.programmes["+strconv.Itoa(i)+"]", "unknown programme"))
			}
		}
	}
	countries := func(field string, d cube.Dim, cs []string) {
		if len(cs) == 0 {
			return
		}
		if d == cube.ReturnCountry && !meaningful[measure][d] {
			v = append(v, rpcerr.FieldViolation(field, "no return country for "+measure))
		}
		for i, c := range cs {
			if !country.Valid(c) {
				v = append(v, rpcerr.FieldViolation(field+"["+strconv.Itoa(i)+"]", "unknown country code"))
			}
		}
		q.query.Filter[d] = cs
	}
	regions := func(field string, d cube.Dim, rs []string) {
		if len(rs) == 0 {
			return
		}
		if d == cube.ReturnRegion && !meaningful[measure][d] {
			v = append(v, rpcerr.FieldViolation(field, "no return region for "+measure))
		}
		for i, r := range rs {
			if _, ok := region.ByCode(r); !ok {
				v = append(v, rpcerr.FieldViolation(field+"["+strconv.Itoa(i)+"]", "unknown region code"))
			}
		}
		q.query.Filter[d] = rs
	}
	countries("filter.host_countries", cube.HostCountry, f.GetHostCountries())
	regions("filter.host_regions", cube.HostRegion, f.GetHostRegions())
	countries("filter.return_countries", cube.ReturnCountry, f.GetReturnCountries())
	regions("filter.return_regions", cube.ReturnRegion, f.GetReturnRegions())
	countries("filter.nationalities", cube.Nationality, f.GetNationalities())
	if len(v) > 0 {
		return aggregateQuery{}, rpcerr.InvalidArgument(v...)
	}
	return q, nil
}

// requireHQ refuses a caller outside HQ: the statistics span every mission.
func requireHQ(ctx context.Context) (auth.Claims, error) {
	c, err := auth.Caller(ctx)
	if err != nil {
		return c, err
	}
	if c.Mission != auth.MissionHQ {
		return c, status.Error(codes.PermissionDenied, "analytics is HQ's: call with the HQ mission")
	}
	return c, nil
}

// Aggregate implements analyticsv1.AnalyticsServiceServer.
func (s *Service) Aggregate(ctx context.Context, req *analyticsv1.AggregateRequest) (*analyticsv1.AggregateResponse, error) {
	claims, err := requireHQ(ctx)
	if err != nil {
		return nil, err
	}
	q, err := parseAggregate(req.GetMeasure(), req.GetGroupBy(), req.GetFilter())
	if err != nil {
		return nil, err
	}
	if req.GetDifferentialPrivacy() != nil {
		if err := dpOffered(q); err != nil {
			return nil, err
		}
	}
	s.logger.InfoContext(ctx, "analytics: aggregate", "method", "Aggregate", "measure", q.measure,
		"dimensions", len(q.groupBy))
	if dp := req.GetDifferentialPrivacy(); dp != nil {
		res, err := s.cube.Aggregate(q.query)
		if err != nil {
			return nil, err
		}
		return s.releaseDP(ctx, claims, q, res, dp.GetEpsilon())
	}
	// Suppression.k is 0 or DefaultK (protovalidate): one threshold for every answer.
	return s.releaseSuppressed(q)
}
