package analytics_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/analytics/projector"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/referral"
)

// referrals is a server running intake, referral and analytics, with two partners of two
// categories that offer shelter in Niger.
type referrals struct {
	*bundle
	ref    referralv1.ReferralServiceClient
	worker context.Context // a caseworker of NER
	un     string          // UNHCR-NER, a UN agency
	ngo    string          // NGO-SAFE, an NGO
}

func setupReferrals(t *testing.T) *referrals {
	t.Helper()
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec(), referral.Spec(), analytics.Spec()},
	})
	r := &referrals{
		bundle: &bundle{env: env, intake: intakev1.NewIntakeServiceClient(env.Conn),
			analytics: analyticsv1.NewAnalyticsServiceClient(env.Conn), analyst: env.As(t, auth.RoleAnalyst, auth.MissionHQ)},
		ref:    referralv1.NewReferralServiceClient(env.Conn),
		worker: env.As(t, auth.RoleCaseworker, "NER"),
	}
	hq := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	partner := func(code string, category commonv1.PartnerCategory) string {
		resp, err := r.ref.RegisterPartner(hq, &referralv1.RegisterPartnerRequest{RequestId: uuid.NewString(), Code: code,
			Name: code + " Niger", Category: category, Countries: []string{"NER"},
			Services: []*referralv1.PartnerService{{Name: "Shelter", Categories: []referralv1.ServiceCategory{
				referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
			Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_HTTP_JSON},
			Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-" + code, StartDate: day(2024, 1, 1),
				ExpiryDate: day(2099, 12, 31)}})
		if err != nil {
			t.Fatalf("RegisterPartner %s: %v", code, err)
		}
		return resp.GetPartner().GetPartnerId()
	}
	r.un = partner("UNHCR-NER", commonv1.PartnerCategory_PARTNER_CATEGORY_UN_AGENCY)
	r.ngo = partner("NGO-SAFE", commonv1.PartnerCategory_PARTNER_CATEGORY_NGO)
	if _, err := r.ref.PublishDataProfile(hq, &referralv1.PublishDataProfileRequest{RequestId: uuid.NewString(),
		ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Fields:          []referralv1.SharedField{referralv1.SharedField_SHARED_FIELD_SEX, referralv1.SharedField_SHARED_FIELD_NATIONALITY}}); err != nil {
		t.Fatalf("PublishDataProfile: %v", err)
	}
	return r
}

// registerCase registers a VoT case in NER whose principal consents to sharing with both
// partners and, when statistics, to being counted.
func (r *referrals) registerCase(t *testing.T, given string, sex commonv1.Sex, nationality string, statistics bool) *intakev1.Case {
	t.Helper()
	consents := []*commonv1.Consent{
		{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 3, 1)},
		{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "UNHCR-NER", Date: day(2026, 3, 1)},
		{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "NGO-SAFE", Date: day(2026, 3, 1)},
	}
	if statistics {
		consents = append(consents, &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true, Date: day(2026, 3, 1)})
	}
	resp, err := r.intake.RegisterCase(r.worker, &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(), Mission: "NER",
		Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "NER", Consents: consents,
		Principal: person(given, sex, nationality), RegistrationDate: day(2026, 3, 1)})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase()
}

// send drafts a referral of c to partner and sends it. The referral service learns of a case
// from intake's outbox: a case registered a moment ago may still be NOT_FOUND (or a consent
// change UNAVAILABLE), which a client retries.
func (r *referrals) send(t *testing.T, c *intakev1.Case, partner string) *referralv1.Referral {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var draft *referralv1.Referral
	for {
		resp, err := r.ref.CreateReferral(r.worker, &referralv1.CreateReferralRequest{RequestId: uuid.NewString(),
			CaseId: c.GetCaseId(), PartnerId: partner, ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
			Reason: referralv1.ReferralReason_REFERRAL_REASON_SPECIALISED_CARE})
		if err == nil {
			draft = resp.GetReferral()
			break
		}
		if c := status.Code(err); (c != codes.NotFound && c != codes.Unavailable) || time.Now().After(deadline) {
			t.Fatalf("CreateReferral: %v", err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	resp, err := r.ref.SendReferral(r.worker, &referralv1.SendReferralRequest{RequestId: uuid.NewString(),
		ReferralId: draft.GetReferralId(), Version: draft.GetVersion()})
	if err != nil {
		t.Fatalf("SendReferral: %v", err)
	}
	return resp.GetReferral()
}

func (r *referrals) accept(t *testing.T, ctx context.Context, ref *referralv1.Referral) *referralv1.Referral {
	t.Helper()
	resp, err := r.ref.AcceptReferral(ctx, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(),
		ReferralId: ref.GetReferralId(), Version: ref.GetVersion()})
	if err != nil {
		t.Fatalf("AcceptReferral: %v", err)
	}
	return resp.GetReferral()
}

// settled waits until the projector has applied the latest change of every referral, then
// until the service's in-memory copy holds the rollup's referrals.
func (r *referrals) settled(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		behind := r.env.QueryInt(t, `SELECT count(*) FROM referral.referral r
LEFT JOIN analytics_state.referral s USING (referral_id) WHERE s.version IS DISTINCT FROM r.version`)
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the projector has not applied the latest change of %d referrals in time", behind)
		}
		time.Sleep(25 * time.Millisecond)
	}
	r.awaitFacts(t, projector.Referrals, 0)
}

// rollupText is the rollup's rows of every measure, as the owner reads them, in key order.
func (r *referrals) rollupText(t *testing.T) string {
	t.Helper()
	return r.env.QueryText(t, `SELECT coalesce(string_agg(format('%s %s %s %s %s %s %s %s %s %s %s %s %s %s = %s', measure,
year, programme, sex, age_band, nationality, host_country, return_country, vulnerabilities, assistance_type,
exploitation_types, referral_status, partner_type, referral_direction, persons), E'\n'
ORDER BY measure, year, programme, sex, age_band, nationality, host_country, return_country, vulnerabilities::text,
assistance_type, exploitation_types::text, referral_status, partner_type, referral_direction), '')
FROM analytics.rollup WHERE persons > 0`)
}

// TestReferralsByStatusAndPartnerType walks referrals through the real referral API (sent to a
// UN agency and an NGO, accepted, declined, completed, some left waiting, some inbound) and
// asks Aggregate for them by status and partner type, direction and sex: every referral is
// counted once, under its current status; a referral is counted only while its person's
// statistics consent is in force (from the first change after a consent recorded late; frozen
// by a withdrawal); a redelivered change moves nothing.
func TestReferralsByStatusAndPartnerType(t *testing.T) {
	t.Parallel()
	r := setupReferrals(t)
	un, ngo := r.env.AsPartner(t, r.un), r.env.AsPartner(t, r.ngo)
	cases := []*intakev1.Case{
		r.registerCase(t, "Amina", female, "NGA", true),
		r.registerCase(t, "Bello", male, "NGA", true),
		r.registerCase(t, "Chiamaka", female, "NGA", true),
	}
	next := 0
	sendNext := func(partner string) *referralv1.Referral {
		c := cases[next%len(cases)]
		next++
		return r.send(t, c, partner)
	}
	var completedOne *referralv1.Referral
	for range 11 { // UN agency: accepted
		r.accept(t, un, sendNext(r.un))
	}
	for range 12 { // UN agency: accepted, then completed
		a := r.accept(t, un, sendNext(r.un))
		resp, err := r.ref.CompleteReferral(un, &referralv1.CompleteReferralRequest{RequestId: uuid.NewString(),
			ReferralId: a.GetReferralId(), Version: a.GetVersion(), Outcome: referralv1.ServiceOutcome_SERVICE_OUTCOME_DELIVERED})
		if err != nil {
			t.Fatalf("CompleteReferral: %v", err)
		}
		completedOne = resp.GetReferral()
	}
	for range 11 { // NGO: declined
		s := sendNext(r.ngo)
		if _, err := r.ref.DeclineReferral(ngo, &referralv1.DeclineReferralRequest{RequestId: uuid.NewString(),
			ReferralId: s.GetReferralId(), Version: s.GetVersion(), Reason: referralv1.DeclineReason_DECLINE_REASON_NO_CAPACITY}); err != nil {
			t.Fatalf("DeclineReferral: %v", err)
		}
	}
	for range 11 { // NGO: not answered yet
		sendNext(r.ngo)
	}

	// Not counted: a principal who never consented to statistics.
	unconsented := r.registerCase(t, "Dauda", male, "NGA", false)
	r.send(t, unconsented, r.ngo)
	r.send(t, unconsented, r.ngo)

	// A principal who withdraws her statistics consent after a referral was sent: it stays
	// counted as SENT although the NGO accepts it afterwards, and a referral made after the
	// withdrawal is not counted at all.
	withdrawing := r.registerCase(t, "Fanta", female, "MLI", true)
	countedThen := r.send(t, withdrawing, r.ngo)
	got, err := r.intake.GetCase(r.worker, &intakev1.GetCaseRequest{CaseId: withdrawing.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	var statsConsent string
	for _, c := range got.GetCase().GetConsents() {
		if c.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS {
			statsConsent = c.GetConsentId()
		}
	}
	if _, err := r.intake.WithdrawConsent(r.worker, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(),
		CaseId: withdrawing.GetCaseId(), Version: got.GetCase().GetVersion(), ConsentId: statsConsent, Date: day(2026, 3, 5)}); err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	r.accept(t, ngo, countedThen)
	r.send(t, withdrawing, r.ngo)

	// A principal whose statistics consent is recorded after her referral was sent: counted
	// from the first change after it, the UN agency's acceptance.
	late := r.registerCase(t, "Gifty", female, "GHA", false)
	lateReferral := r.send(t, late, r.un)
	got, err = r.intake.GetCase(r.worker, &intakev1.GetCaseRequest{CaseId: late.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.intake.RecordConsent(r.worker, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(),
		CaseId: late.GetCaseId(), Version: got.GetCase().GetVersion(), Consent: &commonv1.Consent{
			Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true, Date: day(2026, 3, 6),
			SubjectId: late.GetSubjectId()}}); err != nil {
		t.Fatalf("RecordConsent: %v", err)
	}
	r.accept(t, un, lateReferral)

	// Inbound: the NGO refers 11 people to the mission, which accepts them. No case, no person
	// in Passage: counted with every person dimension UNKNOWN.
	for i := range 11 {
		resp, err := r.ref.CreateInboundReferral(ngo, &referralv1.CreateInboundReferralRequest{
			PartnerReference: fmt.Sprintf("NGO-SAFE/2026/%03d", i), Mission: "NER",
			ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
			Reason:          referralv1.ReferralReason_REFERRAL_REASON_NATIONAL_REFERRAL_MECHANISM})
		if err != nil {
			t.Fatalf("CreateInboundReferral: %v", err)
		}
		r.accept(t, r.worker, resp.GetReferral())
	}
	r.settled(t)

	referralsM := analyticsv1.Measure_MEASURE_REFERRALS
	statusD, partnerD := analyticsv1.Dimension_DIMENSION_REFERRAL_STATUS, analyticsv1.Dimension_DIMENSION_PARTNER_TYPE
	directionD := analyticsv1.Dimension_DIMENSION_REFERRAL_DIRECTION
	for _, tt := range []struct {
		name    string
		groupBy []analyticsv1.Dimension
		cells   []*analyticsv1.Cell
		totals  []*analyticsv1.Cell
		columns []int32
	}{{
		name:    "by status and partner type",
		groupBy: []analyticsv1.Dimension{statusD, partnerD},
		// SENT by the NGO: 11 unanswered and the one accepted after its person withdrew.
		// ACCEPTED by the UN agency: 11, and the one whose person consented late.
		cells: []*analyticsv1.Cell{cell(11, "ACCEPTED", "NGO"), cell(12, "ACCEPTED", "UN_AGENCY"),
			cell(12, "COMPLETED", "UN_AGENCY"), cell(11, "DECLINED", "NGO"), cell(12, "SENT", "NGO")},
		totals: []*analyticsv1.Cell{cell(58, "", ""), cell(34, "", "NGO"), cell(24, "", "UN_AGENCY"),
			cell(23, "ACCEPTED", ""), cell(12, "COMPLETED", ""), cell(11, "DECLINED", ""), cell(12, "SENT", "")},
		columns: []int32{4, 2},
	}, {
		name:    "by direction and partner type",
		groupBy: []analyticsv1.Dimension{directionD, partnerD},
		cells:   []*analyticsv1.Cell{cell(11, "INBOUND", "NGO"), cell(23, "OUTBOUND", "NGO"), cell(24, "OUTBOUND", "UN_AGENCY")},
		totals: []*analyticsv1.Cell{cell(58, "", ""), cell(34, "", "NGO"), cell(24, "", "UN_AGENCY"),
			cell(11, "INBOUND", ""), cell(47, "OUTBOUND", "")},
		columns: []int32{2, 2},
	}, {
		// The principals: 15 referrals each of Amina, Bello and Chiamaka, Fanta's first one,
		// Gifty's; nobody for the inbound referrals.
		name:    "by sex",
		groupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_SEX},
		cells:   []*analyticsv1.Cell{cell(32, "FEMALE"), cell(15, "MALE"), cell(11, "UNKNOWN")},
		totals:  []*analyticsv1.Cell{cell(58, "")},
		columns: []int32{3},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			got := r.aggregate(t, &analyticsv1.AggregateRequest{Measure: referralsM, GroupBy: tt.groupBy})
			want := &analyticsv1.AggregateResponse{Cells: tt.cells, Totals: tt.totals, K: 11, DistinctValues: tt.columns}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("exported with HXL hashtags", func(t *testing.T) {
		resp, err := r.analytics.ExportAggregate(r.analyst, &analyticsv1.ExportAggregateRequest{Measure: referralsM,
			GroupBy: []analyticsv1.Dimension{statusD, partnerD}})
		if err != nil {
			t.Fatal(err)
		}
		// Every row ends in the release's provenance (its times from the response).
		p := resp.GetProvenance()
		prov := ",SUPPRESSION,11,,," + p.GetReleaseTime().AsTime().Format(time.RFC3339) + "," +
			p.GetDataAsOf().AsTime().Format(time.RFC3339) + ",passage " + bootstrap.Version
		want := strings.Join([]string{
			"Referral status,Partner type,Referrals,\"Referrals, suppressed\",Release method,k,Epsilon,Delta,Release time,Data as of,Generator",
			"#status+referral+code,#org+type+partner+code,#indicator+num+referrals,#meta+suppressed," +
				"#meta+method,#meta+k,#meta+epsilon,#meta+delta,#date+released,#date+as_of,#meta+generator",
			"ACCEPTED,NGO,11," + prov, "ACCEPTED,UN_AGENCY,12," + prov, "COMPLETED,UN_AGENCY,12," + prov, "DECLINED,NGO,11," + prov,
			"SENT,NGO,12," + prov,
		}, "\n") + "\n"
		if diff := cmp.Diff(want, strings.ReplaceAll(string(resp.GetCsv()), "\r\n", "\n")); diff != "" {
			t.Errorf("CSV (-want +got):\n%s", diff)
		}
	})

	t.Run("consent given late, and withdrawn", func(t *testing.T) {
		for nationality, want := range map[string]string{"MLI": "SENT=1", "GHA": "ACCEPTED=1"} {
			got := r.env.QueryText(t, `SELECT coalesce(string_agg(referral_status || '=' || persons, ','), '')
FROM analytics.rollup WHERE measure = 'REFERRALS' AND nationality = $1 AND persons > 0`, nationality)
			if got != want {
				t.Errorf("the referrals of the person of %s count as %q, want %s", nationality, got, want)
			}
		}
	})

	t.Run("small cells are suppressed", func(t *testing.T) {
		got := r.aggregate(t, &analyticsv1.AggregateRequest{Measure: referralsM,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_NATIONALITY},
			Filter:  &analyticsv1.Filter{Nationalities: []string{"MLI"}}})
		want := &analyticsv1.AggregateResponse{Cells: []*analyticsv1.Cell{cell(suppressed, "MLI")},
			Totals: []*analyticsv1.Cell{cell(suppressed, "")}, K: 11, DistinctValues: []int32{1}}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("a question across release tables is refused", func(t *testing.T) {
		_, err := r.analytics.Aggregate(r.analyst, &analyticsv1.AggregateRequest{Measure: referralsM,
			GroupBy: []analyticsv1.Dimension{statusD}, Filter: &analyticsv1.Filter{Nationalities: []string{"MLI"}}})
		st := testserver.WantCode(t, err, codes.InvalidArgument)
		if fields := testserver.FieldViolations(st); !slices.Equal(fields, []string{"filter.nationalities"}) {
			t.Errorf("violations name %v, want filter.nationalities", fields)
		}
	})

	t.Run("no differential privacy for referrals", func(t *testing.T) {
		_, err := r.analytics.Aggregate(r.analyst, &analyticsv1.AggregateRequest{Measure: referralsM,
			GroupBy: []analyticsv1.Dimension{statusD},
			Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: 0.5}}})
		st := testserver.WantCode(t, err, codes.InvalidArgument)
		if fields := testserver.FieldViolations(st); !slices.Equal(fields, []string{"differential_privacy"}) {
			t.Errorf("violations name %v, want differential_privacy", fields)
		}
		budget, err := r.analytics.GetPrivacyBudget(r.analyst, &analyticsv1.GetPrivacyBudgetRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if budget.GetSpent() != 0 {
			t.Errorf("a refused release spent ε %v", budget.GetSpent())
		}
	})

	t.Run("the query role's view holds no referral, case or partner id", func(t *testing.T) {
		dump := r.dumpAs(t, analytics.Role, auth.MissionHQ)
		if !strings.Contains(dump, "UN_AGENCY") {
			t.Fatal("the query role reads no referral count: the check proves nothing")
		}
		ids := strings.Fields(r.env.QueryText(t, `SELECT string_agg(concat_ws(' ', referral_id, case_id, subject_id, partner_id,
partner_reference), ' ') FROM referral.referral`))
		for _, id := range ids {
			if strings.Contains(dump, id) {
				t.Errorf("%s is readable by %s", id, analytics.Role)
			}
		}
	})

	t.Run("the projector's referral state is the mission's", func(t *testing.T) {
		db := database.NewDB(r.env.Pool(t, analytics.ProjectorRole))
		for mission, want := range map[string]int{"NER": r.env.QueryInt(t, `SELECT count(*) FROM referral.referral`), "DEU": 0} {
			var n int
			if err := db.Mission(mission).QueryRow(context.Background(), `SELECT count(*) FROM analytics_state.referral`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("the projector declared for %s reads %d referrals of its state, want %d", mission, n, want)
			}
		}
	})

	t.Run("a change applied again moves nothing", func(t *testing.T) {
		before := r.rollupText(t)
		facts := r.env.QueryInt(t, `SELECT count(*) FROM analytics.fact`)
		// The completed referral's changes (created, sent, accepted, completed), applied
		// again newest first, as a redelivery out of order would: none may move its count
		// back.
		records := r.outboxRecords(t, completedOne.GetReferralId())
		if len(records) != 4 {
			t.Fatalf("%d events for a completed referral, want 4", len(records))
		}
		slices.Reverse(records)
		db := database.NewDB(r.env.Pool(t, analytics.ProjectorRole))
		if err := db.OutboxConsumerTx(context.Background(), projector.Name, func(tx pgx.Tx) error {
			for _, rec := range records {
				if err := projector.Apply(context.Background(), tx, rec); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("apply again: %v", err)
		}
		if diff := cmp.Diff(before, r.rollupText(t)); diff != "" {
			t.Errorf("rollup after applying a referral's changes again (-before +after):\n%s", diff)
		}

		// Every event again, from the start of the outbox: the projector's cursor rewound.
		cursor := r.env.QueryText(t, `SELECT tx_id::text || '/' || event_id FROM analytics_state.outbox_cursor WHERE name = $1`, projector.Name)
		r.env.ExecAsOwner(t, `UPDATE analytics_state.outbox_cursor SET tx_id = '0', event_id = 0 WHERE name = $1`, projector.Name)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(25 * time.Millisecond) {
			if r.env.QueryText(t, `SELECT tx_id::text || '/' || event_id FROM analytics_state.outbox_cursor WHERE name = $1`, projector.Name) == cursor {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the projector did not apply the outbox again in time")
			}
		}
		if diff := cmp.Diff(before, r.rollupText(t)); diff != "" {
			t.Errorf("rollup after every event was delivered again (-before +after):\n%s", diff)
		}
		if n := r.env.QueryInt(t, `SELECT count(*) FROM analytics.fact`); n != facts {
			t.Errorf("%d facts after redelivery, want %d", n, facts)
		}
	})
}

// outboxRecords reads a referral's ReferralChanged events from the outbox, in order, as the
// consumer hands them to the projector.
func (r *referrals) outboxRecords(t *testing.T, referralID string) []outbox.Record {
	t.Helper()
	var out []outbox.Record
	r.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, err := conn.Query(ctx, `SELECT event_id, producer, event_type, aggregate_id, mission, payload, occurred_at
FROM outbox.event WHERE aggregate_id = $1 AND event_type = 'passage.referral.v1.ReferralChanged' ORDER BY event_id`, referralID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var rec outbox.Record
			if err := rows.Scan(&rec.ID, &rec.Producer, &rec.Type, &rec.AggregateID, &rec.Mission, &rec.Payload, &rec.OccurredAt); err != nil {
				t.Fatal(err)
			}
			out = append(out, rec)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
	return out
}
