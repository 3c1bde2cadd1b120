package referral_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/egress"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	"github.com/passage-cm/passage/internal/webhook"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/referral"
)

// bundle is one running server with intake and referral, and what the tests share.
type bundle struct {
	env    *testserver.Env
	svc    *referral.Service
	clock  *testtime.Clock // referral's (deadlines, agreements); intake keeps the real time
	in     intakev1.IntakeServiceClient
	ref    referralv1.ReferralServiceClient
	worker context.Context // a caseworker of NER
	super  context.Context // a supervisor of NER
	hq     context.Context // a programme manager at HQ
	// Two partners: UNHCR-like (UN agency) and an NGO; both offer shelter and health.
	partnerA, partnerB string
}

// setup starts a server whose webhook worker may reach the tests' receivers on this machine
// (the development allowance); setupWith says which networks are allowed (none in production).
func setup(t *testing.T) *bundle {
	t.Helper()
	return setupWith(t, egress.Loopback())
}

func setupWith(t *testing.T, allow []netip.Prefix) *bundle {
	t.Helper()
	b := &bundle{clock: testtime.NewClock(time.Now().UTC())}
	opts := []referral.Option{referral.WithClock(b.clock.Now),
		referral.WithConfig(referral.Config{RespondWithin: 72 * time.Hour, ExpiryInterval: time.Hour,
			Webhook: webhook.WorkerConfig{AllowNetworks: allow, PollInterval: 20 * time.Millisecond,
				InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}})}
	spec := referral.SpecWith(opts...)
	spec.Register = func(d bootstrap.Deps, g *grpc.Server) func(context.Context) error {
		b.svc = referral.New(d.Pool, d.Keys, opts...)
		b.svc.Register(g)
		return b.svc.Run
	}
	b.env = testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec(), spec}})
	b.in = intakev1.NewIntakeServiceClient(b.env.Conn)
	b.ref = referralv1.NewReferralServiceClient(b.env.Conn)
	b.worker = b.env.As(t, auth.RoleCaseworker, "NER")
	b.super = b.env.As(t, auth.RoleSupervisor, "NER")
	b.hq = b.env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	b.partnerA = b.registerPartner(t, "UNHCR-NER", commonv1.PartnerCategory_PARTNER_CATEGORY_UN_AGENCY, 2099)
	b.partnerB = b.registerPartner(t, "NGO-SAFE", commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, 2099)
	for _, c := range []referralv1.ServiceCategory{referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		referralv1.ServiceCategory_SERVICE_CATEGORY_HEALTH} {
		if _, err := b.ref.PublishDataProfile(b.hq, &referralv1.PublishDataProfileRequest{RequestId: uuid.NewString(),
			ServiceCategory: c, Fields: []referralv1.SharedField{referralv1.SharedField_SHARED_FIELD_NAME,
				referralv1.SharedField_SHARED_FIELD_SEX, referralv1.SharedField_SHARED_FIELD_NATIONALITY}}); err != nil {
			t.Fatalf("PublishDataProfile: %v", err)
		}
	}
	return b
}

func (b *bundle) registerPartner(t *testing.T, code string, category commonv1.PartnerCategory, expiryYear int32) string {
	t.Helper()
	resp, err := b.ref.RegisterPartner(b.hq, &referralv1.RegisterPartnerRequest{RequestId: uuid.NewString(), Code: code,
		Name: code + " Niger", Category: category, Countries: []string{"NER"},
		Services: []*referralv1.PartnerService{{Name: "Shelter and care", Categories: []referralv1.ServiceCategory{
			referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER, referralv1.ServiceCategory_SERVICE_CATEGORY_HEALTH}}},
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_HTTP_JSON},
		Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-" + code, StartDate: &date.Date{Year: 2024, Month: 1, Day: 1},
			ExpiryDate: &date.Date{Year: expiryYear, Month: 12, Day: 31}}})
	if err != nil {
		t.Fatalf("RegisterPartner %s: %v", code, err)
	}
	return resp.GetPartner().GetPartnerId()
}

func (b *bundle) partner(t *testing.T, id string) context.Context {
	t.Helper()
	return b.env.AsPartner(t, id)
}

// registerCase registers a case in NER for Amina; sharing names the partner codes her
// DATA_SHARING consent is given for at registration.
func (b *bundle) registerCase(t *testing.T, sharing ...string) *intakev1.Case {
	t.Helper()
	consents := []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
		Date: &date.Date{Year: 2026, Month: 3, Day: 1}}}
	for _, p := range sharing {
		consents = append(consents, &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING,
			Granted: true, Partner: p, Date: &date.Date{Year: 2026, Month: 3, Day: 1}})
	}
	resp, err := b.in.RegisterCase(b.worker, &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(), Mission: "NER",
		Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "NER", Consents: consents,
		Principal: &commonv1.Person{GivenName: "Amina", FamilyName: "Zawadi", Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA",
			DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 17}, Phone: "+227 90 12 34 56"},
		RegistrationDate: &date.Date{Year: 2026, Month: 3, Day: 1}})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase()
}

// create drafts a referral of c to partner for shelter.
func (b *bundle) create(t *testing.T, ctx context.Context, c *intakev1.Case, partner string, override *referralv1.ConsentOverride) (*referralv1.Referral, error) {
	t.Helper()
	// The service learns of a case from intake's outbox; on a loaded machine a long transaction
	// elsewhere in the cluster can hold the outbox horizon past the service's own catch-up, so
	// a case registered a moment ago may still be NOT_FOUND, and a consent change not yet
	// applied UNAVAILABLE (the service fails closed): retry, as a client would.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := b.ref.CreateReferral(ctx, &referralv1.CreateReferralRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			PartnerId: partner, ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
			Reason: referralv1.ReferralReason_REFERRAL_REASON_SPECIALISED_CARE, ConsentOverride: override})
		if c := status.Code(err); (c != codes.NotFound && c != codes.Unavailable) || time.Now().After(deadline) {
			return resp.GetReferral(), err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sent creates and sends a referral of c to partner, which must succeed.
func (b *bundle) sent(t *testing.T, c *intakev1.Case, partner string) *referralv1.Referral {
	t.Helper()
	r, err := b.create(t, b.worker, c, partner, nil)
	if err != nil {
		t.Fatalf("CreateReferral: %v", err)
	}
	resp, err := b.ref.SendReferral(b.worker, &referralv1.SendReferralRequest{RequestId: uuid.NewString(),
		ReferralId: r.GetReferralId(), Version: r.GetVersion()})
	if err != nil {
		t.Fatalf("SendReferral: %v", err)
	}
	return resp.GetReferral()
}

// count returns how many rows a table holds, read as the owner (every mission).
func (b *bundle) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
	})
	return n
}

// wantCode fails the test unless err has code c.
func wantCode(t *testing.T, err error, c codes.Code) *status.Status {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != c {
		t.Fatalf("got %v, want %v", err, c)
	}
	return st
}

// precondition returns the PreconditionFailure violations of a status.
func precondition(st *status.Status) []*errdetails.PreconditionFailure_Violation {
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			return pf.GetViolations()
		}
	}
	return nil
}

// withdrawConsent withdraws the DATA_SHARING consent of c's principal for partner code.
func (b *bundle) withdrawConsent(t *testing.T, c *intakev1.Case, code string) {
	t.Helper()
	got, err := b.in.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatal(err)
	}
	var consentID string
	for _, x := range got.GetCase().GetConsents() {
		if x.GetPartner() == code {
			consentID = x.GetConsentId()
		}
	}
	if _, err := b.in.WithdrawConsent(b.worker, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: got.GetCase().GetVersion(), ConsentId: consentID, Date: &date.Date{Year: 2026, Month: 3, Day: 5}}); err != nil {
		t.Fatal(err)
	}
}
