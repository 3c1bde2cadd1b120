package intake_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// BenchmarkListCases: the caseload (ListCases, pages of 25) in a mission of 200,000 cases,
// with 20,000 in another mission beside it, through gRPC and row-level security, with p50
// and p95 per call. A caseworker has 5,000 cases: 2,500 they registered and 2,500 a
// supervisor assigned them; the other cases are registered by 40 colleagues, and three in
// five of them are assigned to one, so 78,000 are unassigned. The rows are written directly
// in SQL (coded records with their principal; no vault row: the basic view reads none), then
// vacuumed and analysed.
// A first page carries the counts of every match when asked (with_counts); a later page, read
// with its token, never.
//
// go test -run '^$' -bench ListCases -benchtime 500x ./services/intake/
func BenchmarkListCases(b *testing.B) {
	env := testserver.Start(b, testserver.Options{Services: []bootstrap.Service{intake.Spec()}})
	start := time.Now()
	env.ExecAsOwner(b, `CREATE TEMPORARY TABLE bench_case AS
SELECT i, CASE WHEN i <= 200000 THEN 'NER' ELSE 'DEU' END AS m, gen_random_uuid() AS c,
  CASE WHEN i % 80 = 0 THEN 'staff-caseworker' ELSE 'staff-' || (i % 40) END AS registrar,
  CASE WHEN i % 80 = 40 THEN 'staff-caseworker' WHEN i % 80 <> 0 AND i % 5 < 3 THEN 'staff-' || ((i + 1) % 40) END AS assignee,
  timestamptz '2024-01-01' + i * interval '3 minutes' AS created
FROM generate_series(1, 220000) i;
INSERT INTO intake."case" (case_id, mission, programme, status, principal_subject_id, host_country, vulnerabilities,
  registration_date, created_by, created_at, updated_at)
SELECT c, m, (ARRAY['AVRR', 'VOT', 'HASM'])[i % 3 + 1], (ARRAY['REGISTERED', 'ACTIVE', 'SUSPENDED'])[i % 7 % 3 + 1],
  gen_random_uuid(), m, CASE WHEN i % 4 = 0 THEN ARRAY['MEDICAL_NEEDS'] ELSE '{}' END,
  created::date, registrar, created, created + (i % 500) * interval '1 day'
FROM bench_case;
INSERT INTO intake.case_member (mission, case_id, position, subject_id, sex, age_band, nationality)
SELECT c.mission, c.case_id, 0, c.principal_subject_id, 'FEMALE', '18_20', 'NGA' FROM intake."case" c;
INSERT INTO intake.case_assignment (mission, case_id, staff_id, assigned_by, assigned_at)
SELECT m, c, assignee, 'staff-chief', created FROM bench_case WHERE assignee IS NOT NULL`)
	// As autovacuum leaves the tables: statistics, and visibility maps for index-only scans.
	for _, table := range []string{`intake."case"`, "intake.case_member", "intake.case_assignment"} {
		env.ExecAsOwner(b, "VACUUM ANALYZE "+table)
	}
	b.Logf("%d cases and %d assignments written in %s", env.Count(b, `intake."case"`),
		env.Count(b, "intake.case_assignment"), time.Since(start).Round(time.Millisecond))

	client := intakev1.NewIntakeServiceClient(env.Conn)
	me := env.AsStaff(b, "staff-caseworker", auth.RoleCaseworker, "NER")
	boss := env.AsStaff(b, "staff-chief", auth.RoleSupervisor, "NER")
	mine := &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME}
	unassigned := &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED}
	counted := func(r *intakev1.ListCasesRequest) *intakev1.ListCasesRequest {
		r = proto.Clone(r).(*intakev1.ListCasesRequest)
		r.WithCounts = true
		return r
	}
	for _, bc := range []struct {
		name  string
		req   *intakev1.ListCasesRequest
		asked context.Context
		later bool // read the second page, with the first's token
	}{
		{"mine", mine, me, false},
		{"mine-with-counts", counted(mine), me, false},
		{"mine-later-page", mine, me, true},
		{"mine-waiting-longest", &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_ME,
			OrderBy: intakev1.CaseOrder_CASE_ORDER_ACTIVITY_ASC}, me, false},
		{"unassigned", unassigned, boss, false},
		{"unassigned-with-counts", counted(unassigned), boss, false},
		{"unassigned-later-page", unassigned, boss, true},
		{"unassigned-vot-medical", &intakev1.ListCasesRequest{Assignee: intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED,
			Programme: commonv1.Programme_PROGRAMME_VOT, Vulnerability: commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS}, boss, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := bc.req
			if bc.later {
				first, err := client.ListCases(bc.asked, req)
				if err != nil || first.GetNextPageToken() == "" {
					b.Fatalf("ListCases: no second page (%v)", err)
				}
				req = &intakev1.ListCasesRequest{Assignee: req.GetAssignee(), PageToken: first.GetNextPageToken()}
			}
			var took []time.Duration
			for b.Loop() {
				t0 := time.Now()
				resp, err := client.ListCases(bc.asked, req)
				took = append(took, time.Since(t0))
				if err != nil || len(resp.GetCases()) != 25 {
					b.Fatalf("ListCases: %d cases, %v", len(resp.GetCases()), err)
				}
			}
			slices.Sort(took)
			at := func(q float64) time.Duration { return took[int(q*float64(len(took)-1))] }
			b.ReportMetric(float64(at(0.50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(at(0.95).Microseconds())/1000, "p95-ms")
		})
	}
}
