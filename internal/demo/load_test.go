package demo

import (
	"context"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/catalog"
)

// lossyConn loses the reply of every nth call after the server has handled it, as a dropped
// link does: the caller sees UNAVAILABLE for a call that committed.
type lossyConn struct {
	grpc.ClientConnInterface
	every int64
	n     atomic.Int64
	lost  atomic.Int64
}

func (c *lossyConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	if err := c.ClientConnInterface.Invoke(ctx, method, args, reply, opts...); err != nil {
		return err
	}
	if c.n.Add(1)%c.every == 0 {
		c.lost.Add(1)
		proto.Reset(reply.(proto.Message))
		return status.Error(codes.Unavailable, "reply lost on the way back")
	}
	return nil
}

func loader(env *testserver.Env, conn grpc.ClientConnInterface) *Loader {
	tokens, partnerTokens := DevTokens(env.Signer(), "demo", time.Hour)
	return &Loader{Conn: conn, Concurrency: 6, Tokens: tokens, PartnerTokens: partnerTokens}
}

// departures reads every DepartureRecorded event, as analytics counts persons returned.
func departures(t *testing.T, env *testserver.Env) []*commonv1.DepartureRecorded {
	t.Helper()
	var out []*commonv1.DepartureRecorded
	env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, err := conn.Query(ctx, `SELECT payload FROM outbox.event WHERE event_type = 'passage.common.v1.DepartureRecorded' ORDER BY event_id`)
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		if _, err := pgx.ForEachRow(rows, []any{&b}, func() error {
			d := &commonv1.DepartureRecorded{}
			out = append(out, d)
			return proto.Unmarshal(b, d)
		}); err != nil {
			t.Fatal(err)
		}
	})
	return out
}

// TestLoadThroughTheServices loads a small plan through the real servers, with a link that
// loses every seventh reply, and finds in what the services recorded exactly the plan's
// figures; loading part of the plan again writes nothing.
func TestLoadThroughTheServices(t *testing.T) {
	t.Parallel()
	plan, err := NewPlan(Config{Year: 2015, Scale: 0.005, Seed: 42}, IOMRegions())
	if err != nil {
		t.Fatal(err)
	}
	env := testserver.Start(t, testserver.Options{Services: catalog.Services()})
	conn := &lossyConn{ClientConnInterface: env.Conn, every: 7}
	ctx := t.Context()
	rep, err := loader(env, conn).Load(ctx, plan)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if rep.Cases != int64(plan.Cases()) || rep.Persons != int64(plan.Persons()) {
		t.Errorf("report: %d cases and %d persons, want %d and %d", rep.Cases, rep.Persons, plan.Cases(), plan.Persons())
	}
	if conn.lost.Load() == 0 || rep.Retries < conn.lost.Load() {
		t.Errorf("%d replies lost, %d retries: every lost reply must be retried", conn.lost.Load(), rep.Retries)
	}

	// What the services recorded: one registration per case, one departure per AVRR case and
	// approved HASM request, adding up to the plan's figures.
	if got := env.QueryInt(t, `SELECT count(*) FROM outbox.event WHERE event_type = 'passage.intake.v1.CaseRegistered'`); got != plan.Cases() {
		t.Errorf("%d cases registered, want %d", got, plan.Cases())
	}
	regions := map[string]string{}
	for _, r := range IOMRegions() {
		for _, c := range r.Countries {
			regions[c] = r.Code
		}
	}
	got := Figures{AVRRBySex: map[string]int{}, AVRRByHostRegion: map[string]int{}, AVRRByReturnRegion: map[string]int{},
		AVRRByVulnerability: map[string]int{}}
	hosts, returns, nationalities := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, d := range departures(t, env) {
		n := len(d.GetTravellers())
		switch d.GetProgramme() {
		case commonv1.Programme_PROGRAMME_AVRR:
			got.AVRRCases++
			got.AVRRPersons += n
			for _, p := range d.GetTravellers() {
				got.AVRRBySex[enumcode.Code(p.GetSex())]++
			}
			got.AVRRByHostRegion[regions[d.GetHostCountry()]] += n
			got.AVRRByReturnRegion[regions[d.GetReturnCountry()]] += n
			for _, v := range d.GetVulnerabilities() {
				got.AVRRByVulnerability[enumcode.Code(v)] += n
			}
			if len(d.GetVulnerabilities()) == 0 {
				got.AVRRByVulnerability["NONE"] += n
			}
			hosts[d.GetHostCountry()], returns[d.GetReturnCountry()] = true, true
		case commonv1.Programme_PROGRAMME_HASM:
			got.HASMApproved++
			got.HASMIndividuals += n
			for _, p := range d.GetTravellers() {
				nationalities[p.GetNationality()] = true
			}
		}
	}
	got.AVRRHostCountries, got.AVRRReturnCountries, got.HASMNationalities = len(hosts), len(returns), len(nationalities)
	want := plan.Figures
	want.HASMRejected, want.Victims, want.VictimsIdentified, want.VictimsByExploitation = 0, 0, 0, nil
	want.ReferralsByStatus, want.ReferralsByPartnerType = nil, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("departures recorded (-plan +got):\n%s", diff)
	}

	// The services' own read RPCs agree: a return has departed, the fund holds the approved
	// costs, a victim's exploitation is recorded, a household member counts in statistics.
	a := plan.AVRR[0]
	field := env.AsStaff(t, "demo-caseworker-"+a.Host, auth.RoleCaseworker, a.Host)
	intake := intakev1.NewIntakeServiceClient(env.Conn)
	list, err := intake.ListCases(field, &intakev1.ListCasesRequest{Mission: a.Host, Programme: commonv1.Programme_PROGRAMME_AVRR, PageSize: 100})
	if err != nil || len(list.GetCases()) == 0 {
		t.Fatalf("ListCases in %s: %v, %d cases", a.Host, err, len(list.GetCases()))
	}
	for _, kase := range list.GetCases() {
		r, err := returnsv1.NewReturnServiceClient(env.Conn).GetReturn(field, &returnsv1.GetReturnRequest{CaseId: kase.GetCaseId()})
		if err != nil || r.GetReturn().GetStatus() != returnsv1.ReturnStatus_RETURN_STATUS_DEPARTED {
			t.Errorf("return of a case in %s: %v, status %v, want DEPARTED", a.Host, err, r.GetReturn().GetStatus())
		}
		if d := kase.GetRegistrationDate(); d.GetYear() != 2015 {
			t.Errorf("a case registered in %d, want 2015", d.GetYear())
		}
		for _, m := range append([]*intakev1.CaseMember{kase.GetPrincipal()}, kase.GetHouseholdMembers()...) {
			if !m.GetInStatistics() {
				t.Errorf("a person of a case in %s is not in statistics", a.Host)
			}
		}
	}
	hq := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	fund, err := hasmv1.NewStrandedMigrantServiceClient(env.Conn).GetFund(hq, &hasmv1.GetFundRequest{Code: plan.FundCode, Year: 2015})
	if err != nil || fund.GetFund().GetCommitted() != plan.FundBudget {
		t.Errorf("fund: %v, committed %d, want %d", err, fund.GetFund().GetCommitted(), plan.FundBudget)
	}
	rejected, err := hasmv1.NewStrandedMigrantServiceClient(env.Conn).ListRequests(hq, &hasmv1.ListRequestsRequest{
		Status: hasmv1.RequestStatus_REQUEST_STATUS_REJECTED, PageSize: 100})
	if err != nil || len(rejected.GetRequests()) != plan.Figures.HASMRejected {
		t.Errorf("rejected requests: %v, %d, want %d", err, len(rejected.GetRequests()), plan.Figures.HASMRejected)
	}
	v := plan.Victim[0]
	victims, err := traffickingv1.NewTraffickingServiceClient(env.Conn).ListVictimCases(
		env.AsStaff(t, "demo-caseworker-"+v.Host, auth.RoleCaseworker, v.Host), &traffickingv1.ListVictimCasesRequest{PageSize: 100})
	if err != nil || len(victims.GetVictimCases()) == 0 {
		t.Fatalf("ListVictimCases in %s: %v", v.Host, err)
	}
	for _, vc := range victims.GetVictimCases() {
		if len(vc.GetExploitation().GetTypes()) == 0 || len(vc.GetExploitation().GetMeansOfControl()) == 0 || len(vc.GetAssistance()) != 1 {
			t.Errorf("victim case without exploitation types, means of control or assistance: %v", vc.GetExploitation())
		}
	}
	if got := env.QueryInt(t, `SELECT count(*) FROM outbox.event WHERE event_type = 'passage.trafficking.v1.ExploitationRecorded'`); got != len(plan.Victim) {
		t.Errorf("%d exploitations recorded, want %d", got, len(plan.Victim))
	}

	aggregateReturnsThePlan(t, env, plan)
	rollupIsThePlan(t, env, plan)

	// Run part of it again: every call replays its first result, nothing is written.
	again := *plan
	again.AVRR, again.Victim = plan.AVRR[:min(25, len(plan.AVRR))], plan.Victim[:min(3, len(plan.Victim))]
	before := env.QueryInt(t, `SELECT count(*) FROM outbox.event`)
	if _, err := loader(env, env.Conn).Load(ctx, &again); err != nil {
		t.Fatalf("second load: %v", err)
	}
	if after := env.QueryInt(t, `SELECT count(*) FROM outbox.event`); after != before {
		t.Errorf("the second load wrote %d events, want none", after-before)
	}
}

// aggregateReturnsThePlan asks analytics for the seed's figures, one Aggregate call each, as
// an HQ analyst: AVRR persons returned in 2015 by sex, host region, return region and
// vulnerable group; the distinct host and return countries; HASM individuals and their
// nationalities; victims identified by type of exploitation. A released count equals the plan's; a withheld one (disclosure control,
// k = 11) stands for a category the plan holds.
func aggregateReturnsThePlan(t *testing.T, env *testserver.Env, plan *Plan) {
	t.Helper()
	client := analyticsv1.NewAnalyticsServiceClient(env.Conn)
	hq := env.As(t, auth.RoleAnalyst, auth.MissionHQ)
	filter := func(p commonv1.Programme) *analyticsv1.Filter {
		return &analyticsv1.Filter{Programmes: []commonv1.Programme{p}, YearFrom: 2015, YearTo: 2015}
	}
	measure := func(m analyticsv1.Measure, p commonv1.Programme, by ...analyticsv1.Dimension) *analyticsv1.AggregateResponse {
		t.Helper()
		resp, err := client.Aggregate(hq, &analyticsv1.AggregateRequest{Measure: m, GroupBy: by, Filter: filter(p)})
		if err != nil {
			t.Fatalf("Aggregate %v by %v: %v", m, by, err)
		}
		return resp
	}
	aggregate := func(p commonv1.Programme, by ...analyticsv1.Dimension) *analyticsv1.AggregateResponse {
		t.Helper()
		return measure(analyticsv1.Measure_MEASURE_PERSONS_RETURNED, p, by...)
	}
	// The projection follows the outbox: wait until every departure has reached it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp := aggregate(commonv1.Programme_PROGRAMME_AVRR, analyticsv1.Dimension_DIMENSION_YEAR)
		if len(resp.GetCells()) == 1 && resp.GetCells()[0].GetCount() == int64(plan.Figures.AVRRPersons) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("analytics counts %v AVRR persons returned in 2015, want %d", resp.GetCells(), plan.Figures.AVRRPersons)
		}
		time.Sleep(100 * time.Millisecond)
	}
	compare := func(what string, resp *analyticsv1.AggregateResponse, want map[string]int) {
		t.Helper()
		got := map[string]int{}
		for _, c := range resp.GetCells() {
			key := c.GetKeys()[0]
			switch {
			case !c.GetSuppressed():
				got[key] = int(c.GetCount())
			case want[key] > 0:
				got[key] = want[key] // withheld, and the plan has it: as good as equal
			default:
				got[key] = -1 // withheld, for a category the plan does not have
			}
		}
		for k, n := range want {
			if n == 0 {
				delete(want, k)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-plan +Aggregate):\n%s", what, diff)
		}
	}
	f := plan.Figures
	compare("AVRR persons returned by sex", aggregate(commonv1.Programme_PROGRAMME_AVRR, analyticsv1.Dimension_DIMENSION_SEX), f.AVRRBySex)
	compare("by host region", aggregate(commonv1.Programme_PROGRAMME_AVRR, analyticsv1.Dimension_DIMENSION_HOST_REGION), f.AVRRByHostRegion)
	compare("by return region", aggregate(commonv1.Programme_PROGRAMME_AVRR, analyticsv1.Dimension_DIMENSION_RETURN_REGION), f.AVRRByReturnRegion)
	compare("by vulnerable group", aggregate(commonv1.Programme_PROGRAMME_AVRR, analyticsv1.Dimension_DIMENSION_VULNERABILITY), f.AVRRByVulnerability)
	countries := aggregate(commonv1.Programme_PROGRAMME_AVRR, analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY)
	if got, want := countries.GetDistinctValues(), []int32{int32(f.AVRRHostCountries), int32(f.AVRRReturnCountries)}; !slices.Equal(got, want) {
		t.Errorf("distinct host and return countries: %v, want %v", got, want)
	}
	hasm := aggregate(commonv1.Programme_PROGRAMME_HASM, analyticsv1.Dimension_DIMENSION_NATIONALITY)
	if got := hasm.GetDistinctValues(); !slices.Equal(got, []int32{int32(f.HASMNationalities)}) {
		t.Errorf("HASM nationalities: %v, want %d", got, f.HASMNationalities)
	}
	individuals := aggregate(commonv1.Programme_PROGRAMME_HASM)
	if c := individuals.GetCells(); len(c) != 1 || (!c[0].GetSuppressed() && c[0].GetCount() != int64(f.HASMIndividuals)) ||
		(c[0].GetSuppressed() && f.HASMIndividuals >= 11) {
		t.Errorf("HASM individuals: %v, want %d", c, f.HASMIndividuals)
	}
	// The VoT figures: victims identified in 2015, by type of exploitation.
	compare("victims identified by type of exploitation", measure(analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED,
		commonv1.Programme_PROGRAMME_VOT, analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE), f.VictimsByExploitation)

	// The victims' referrals by where they stand and by partner type. A referral is dated by
	// its creation, when it was loaded: no year filter. Wait for the projector to have applied
	// every referral's last change, then for the service's copy to hold them all.
	referrals := func(by ...analyticsv1.Dimension) *analyticsv1.AggregateResponse {
		t.Helper()
		resp, err := client.Aggregate(hq, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_REFERRALS, GroupBy: by,
			Filter: &analyticsv1.Filter{Programmes: []commonv1.Programme{commonv1.Programme_PROGRAMME_VOT}}})
		if err != nil {
			t.Fatalf("Aggregate referrals by %v: %v", by, err)
		}
		return resp
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		behind := env.QueryInt(t, `SELECT count(*) FROM referral.referral r
LEFT JOIN analytics_state.referral s USING (referral_id) WHERE s.version IS DISTINCT FROM r.version`)
		c := referrals().GetCells()
		if behind == 0 && len(c) == 1 && (c[0].GetCount() == int64(f.Victims) || c[0].GetSuppressed() && f.Victims < 11) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("analytics counts %v referrals (%d behind), want %d", c, behind, f.Victims)
		}
	}
	// At a small scale every cell is withheld: the rollup, read as the owner, has the counts.
	byStatus := map[string]int{}
	env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, err := conn.Query(ctx, `SELECT referral_status, sum(persons)::int FROM analytics.rollup
WHERE measure = 'REFERRALS' GROUP BY referral_status HAVING sum(persons) > 0`)
		if err != nil {
			t.Fatal(err)
		}
		var k string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { byStatus[k] = n; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if diff := cmp.Diff(f.ReferralsByStatus, byStatus); diff != "" {
		t.Errorf("referrals by status in the rollup (-plan +got):\n%s", diff)
	}
	compare("referrals by status", referrals(analyticsv1.Dimension_DIMENSION_REFERRAL_STATUS), f.ReferralsByStatus)
	compare("referrals by partner type", referrals(analyticsv1.Dimension_DIMENSION_PARTNER_TYPE), f.ReferralsByPartnerType)
}

// rollupIsThePlan waits until the projector has recorded the whole plan and checks that
// analytics.rollup then holds, for the walk-through's measures, exactly what planRollup says
// it would: the rows TestWalkThroughAtScale writes straight into the table are those the
// services and the projector make of the plan.
func rollupIsThePlan(t *testing.T, env *testserver.Env, plan *Plan) {
	t.Helper()
	// Referrals are dated when they are created: this year (at the turn of a year, the
	// one before).
	want := planRollup(plan, time.Now().UTC().Year())
	var got map[rollupKey]int64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got = readRollup(t, env); maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	for key, n := range want {
		if got[key] != n {
			t.Errorf("rollup %+v: %d, planRollup %d", key, got[key], n)
		}
	}
	for key, n := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("rollup %+v: %d, not in planRollup", key, n)
		}
	}
}
