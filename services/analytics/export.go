package analytics

import (
	"bytes"
	"context"
	"fmt"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/ctdc"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/hxl"
	"github.com/passage-cm/passage/internal/region"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
)

// csvType is the content type of both exports.
const csvType = "text/csv"

// ExportAggregate implements analyticsv1.AnalyticsServiceServer: Aggregate's cells as CSV
// with HXL hashtags (internal/hxl), released as Aggregate would (the same suppression, or the
// same differentially private release spending the same budget), each row ending in the
// release's provenance. Totals are not written: HXL tools compute their own, and rows of
// totals among the detail would be counted twice.
func (s *Service) ExportAggregate(ctx context.Context, req *analyticsv1.ExportAggregateRequest) (*analyticsv1.ExportAggregateResponse, error) {
	claims, err := requireHQ(ctx)
	if err != nil {
		return nil, err
	}
	q, err := parseAggregate(req.GetMeasure(), req.GetGroupBy(), req.GetFilter())
	if err != nil {
		return nil, err
	}
	dp := req.GetDifferentialPrivacy()
	if dp != nil {
		if err := dpOffered(q); err != nil {
			return nil, err
		}
	}
	s.logger.InfoContext(ctx, "analytics: export aggregate", "method", "ExportAggregate", "measure", q.measure,
		"dimensions", len(q.groupBy), "differential_privacy", dp != nil)
	// The refresh time is read before the counts: they are at least that recent.
	asOf, _ := s.loader.AsOf()
	now := s.now()
	var (
		out  []hxl.Cell
		resp = &analyticsv1.ExportAggregateResponse{ContentType: csvType}
	)
	if dp != nil {
		res, err := s.cube.Aggregate(q.query)
		if err != nil {
			return nil, err
		}
		rel, err := s.releaseNoisy(ctx, claims, q, res, dp.GetEpsilon(), now, "export=hxl;"+describe(q))
		if err != nil {
			return nil, err
		}
		out = make([]hxl.Cell, len(rel.cells))
		for i, c := range rel.cells {
			out[i] = hxl.Cell{Keys: c.Keys, Count: c.Count}
		}
		resp.Provenance = provenance(analyticsv1.ReleaseMethod_RELEASE_METHOD_DIFFERENTIAL_PRIVACY, now, asOf)
		resp.Provenance.Epsilon, resp.Provenance.Delta = rel.params.Epsilon, rel.params.Delta
		resp.RemainingBudget = rel.remaining
	} else {
		// Suppression.k is 0 or DefaultK (protovalidate): one threshold for every answer.
		cells, _, err := s.published(q)
		if err != nil {
			return nil, err
		}
		out = make([]hxl.Cell, len(cells))
		for i, c := range cells {
			out[i] = hxl.Cell{Keys: c.GetKeys(), Count: c.GetCount(), Suppressed: c.GetSuppressed()}
		}
		resp.K = DefaultK
		resp.Provenance = provenance(analyticsv1.ReleaseMethod_RELEASE_METHOD_SUPPRESSION, now, asOf)
		resp.Provenance.K = DefaultK
	}
	var buf bytes.Buffer
	if err := hxl.WriteLayout(&buf, q.measure, enumcode.Codes(q.groupBy), out,
		hxl.Options{Names: hxl.Names, Noisy: dp != nil, Meta: hxlMeta(resp.Provenance)}); err != nil {
		return nil, fmt.Errorf("analytics: export: %w", err)
	}
	resp.Csv = buf.Bytes()
	return resp, nil
}

// ExportVictimRecords implements analyticsv1.AnalyticsServiceServer: the de-identified victim
// records, anonymised to k (internal/ctdc generalises, suppresses values and, as a last
// resort, withholds records, then verifies k-anonymity again before writing).
func (s *Service) ExportVictimRecords(ctx context.Context, req *analyticsv1.ExportVictimRecordsRequest) (*analyticsv1.ExportVictimRecordsResponse, error) {
	if _, err := requireHQ(ctx); err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "analytics: export victim records", "method", "ExportVictimRecords")
	f := req.GetFilter()
	readAt := s.now()
	rows, err := s.reads.Mission(auth.MissionHQ).Query(ctx, `SELECT year, gender, age_broad, citizenship,
exploitation_types, means_of_control, country_of_exploitation
FROM analytics.victim_record
WHERE ($1 = 0 OR year >= $1) AND ($2 = 0 OR year <= $2)
  AND (cardinality($3::text[]) = 0 OR country_of_exploitation = ANY ($3))
  AND (cardinality($4::text[]) = 0 OR citizenship = ANY ($4))
ORDER BY record_id`, f.GetYearFrom(), f.GetYearTo(), nonNil(f.GetCountriesOfExploitation()), nonNil(f.GetCitizenships()))
	if err != nil {
		return nil, fmt.Errorf("analytics: victim records: %w", err)
	}
	var records []ctdc.VictimRecord
	for rows.Next() {
		var r ctdc.VictimRecord
		var year int16
		if err := rows.Scan(&year, &r.Gender, &r.AgeBroad, &r.Citizenship, &r.Exploitation, &r.MeansOfControl,
			&r.CountryOfExploitation); err != nil {
			rows.Close()
			return nil, fmt.Errorf("analytics: victim records: %w", err)
		}
		r.Year = int(year)
		records = append(records, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: victim records: %w", err)
	}
	k := int(req.GetK())
	if k == 0 {
		k = ctdc.DefaultK
	}
	rel, err := ctdc.AnonymiseWith(records, ctdc.Options{K: k, RegionOf: region.CodeOf})
	if err != nil {
		return nil, fmt.Errorf("analytics: anonymise: %w", err)
	}
	prov := provenance(analyticsv1.ReleaseMethod_RELEASE_METHOD_K_ANONYMITY, s.now(), readAt)
	prov.K = int32(rel.K)
	var buf bytes.Buffer
	if err := rel.WriteCSV(&buf, ctdcExtra(prov)...); err != nil {
		return nil, fmt.Errorf("analytics: victim records: %w", err)
	}
	return &analyticsv1.ExportVictimRecordsResponse{
		Csv: buf.Bytes(), ContentType: csvType, K: int32(rel.K), Records: int32(len(rel.Rows)),
		Generalised: int32(rel.Generalised), Withheld: int32(rel.Withheld), Suppressed: int32(rel.Suppressed),
		Provenance: prov,
	}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
