package demo

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/civildate"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// TokenSource returns a bearer token for a staff member of role in mission. The loader
// asks once per role and mission and keeps the token.
type TokenSource func(role auth.Role, mission string) (string, error)

// DevTokens returns the Loader's Tokens and PartnerTokens for a server that accepts
// development tokens: each minted with key (auth.DevIssuer), valid for ttl, for the subject
// prefix-ROLE-MISSION or prefix-partner-ID.
func DevTokens(key crypto.Signer, prefix string, ttl time.Duration) (TokenSource, func(partnerID string) (string, error)) {
	staff := func(role auth.Role, mission string) (string, error) {
		return auth.MintToken(key, auth.DevIssuer, auth.Audience,
			auth.Claims{Subject: prefix + "-" + string(role) + "-" + mission, Role: role, Mission: mission}, ttl)
	}
	partner := func(partnerID string) (string, error) {
		return auth.MintToken(key, auth.DevIssuer, auth.Audience,
			auth.Claims{Subject: prefix + "-partner-" + partnerID, Role: auth.RolePartner, Partner: partnerID}, ttl)
	}
	return staff, partner
}

// Loader creates a plan through the services' gRPC APIs.
type Loader struct {
	// Conn reaches a server running intake, returns, trafficking and hasm.
	Conn grpc.ClientConnInterface
	// Tokens mints the callers' tokens: caseworkers of each host mission, a programme
	// manager at HQ.
	Tokens TokenSource
	// PartnerTokens mints the tokens the partner agencies answer referrals with, for a
	// partner id of the registry. Needed when the plan has victims (each is referred).
	PartnerTokens func(partnerID string) (string, error)
	// Concurrency is how many cases are loaded at once (default 8).
	Concurrency int
	// Attempts is how many times a call is made before its error is final (default 8).
	// Retried are UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and ABORTED, always
	// with the same request id: a call that did commit returns its first result.
	Attempts int
	// AwaitCase bounds how long a programme's first step on a case keeps being retried
	// while the programme service answers NOT_FOUND because it has not yet applied intake's
	// event for the case (default 5 minutes): after a large first pass its consumer may be
	// tens of thousands of events behind.
	AwaitCase time.Duration
	// Progress, when set, is called about every ProgressEvery with the counts so far.
	Progress      func(Report)
	ProgressEvery time.Duration

	tokens  sync.Map // role/mission, or partner/id -> token
	calls   atomic.Int64
	retries atomic.Int64
	persons atomic.Int64
	cases   atomic.Int64
	started time.Time
	// partnerIDs are the registry ids of the plan's Partners, in order.
	partnerIDs []string
}

// Report says what a load did.
type Report struct {
	// Cases and Persons are those registered (every person of every case).
	Cases   int64 `json:"cases"`
	Persons int64 `json:"persons"`
	// Calls are the RPCs made, retries included; Retries the calls repeated.
	Calls   int64         `json:"calls"`
	Retries int64         `json:"retries"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// PersonsPerSecond is Persons over Elapsed.
	PersonsPerSecond float64 `json:"persons_per_second"`
}

func (l *Loader) report() Report {
	r := Report{Cases: l.cases.Load(), Persons: l.persons.Load(), Calls: l.calls.Load(), Retries: l.retries.Load(), Elapsed: time.Since(l.started)}
	if s := r.Elapsed.Seconds(); s > 0 {
		r.PersonsPerSecond = float64(r.Persons) / s
	}
	return r
}

// Load creates every case of the plan: first the HASM fund at HQ, then every registration,
// then every case's programme steps in order, Concurrency cases at a time. It stops at the first
// error that retries do not cure and returns it with the counts so far. Run again with the
// same plan, it replays what was done and goes on.
func (l *Loader) Load(ctx context.Context, p *Plan) (Report, error) {
	l.started = time.Now()
	if l.Concurrency <= 0 {
		l.Concurrency = 8
	}
	if l.Attempts <= 0 {
		l.Attempts = 8
	}
	if l.AwaitCase <= 0 {
		l.AwaitCase = 5 * time.Minute
	}
	c := clients{
		intake:      intakev1.NewIntakeServiceClient(l.Conn),
		returns:     returnsv1.NewReturnServiceClient(l.Conn),
		trafficking: traffickingv1.NewTraffickingServiceClient(l.Conn),
		hasm:        hasmv1.NewStrandedMigrantServiceClient(l.Conn),
		referral:    referralv1.NewReferralServiceClient(l.Conn),
	}
	stop := l.progress()
	defer stop()
	if len(p.HASM) > 0 {
		if err := l.fund(ctx, c, p); err != nil {
			return l.report(), err
		}
	}
	if len(p.Victim) > 0 {
		if err := l.partners(ctx, c, p); err != nil {
			return l.report(), err
		}
	}
	// Two passes: every registration first, then every programme's steps. The programme
	// services learn of a case from intake's events; by the second pass their consumers have
	// applied them in the background, so the steps find their cases at once instead of each
	// waiting for a catch-up behind the registrations still running.
	avrr, hasm, victims := make([]string, len(p.AVRR)), make([]string, len(p.HASM)), make([]string, len(p.Victim))
	err := l.each(ctx, p, func(ctx context.Context, i int) error {
		return l.register(ctx, c, p, "avrr", p.AVRR[i].Serial, p.AVRR[i].Host, &avrr[i],
			newRegistration(p.AVRR[i].Host, commonv1.Programme_PROGRAMME_AVRR, p.AVRR[i].People, p.AVRR[i].Vulnerabilities, p.AVRR[i].Registered))
	}, func(ctx context.Context, i int) error {
		return l.register(ctx, c, p, "hasm", p.HASM[i].Serial, p.HASM[i].Host, &hasm[i],
			newRegistration(p.HASM[i].Host, commonv1.Programme_PROGRAMME_HASM, p.HASM[i].People, nil, p.HASM[i].Registered))
	}, func(ctx context.Context, i int) error {
		v := &p.Victim[i]
		req := newRegistration(v.Host, commonv1.Programme_PROGRAMME_VOT,
			[]Person{v.Person}, []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}, v.Registered)
		// The victim consents to sharing with the kind of agency they will be referred to.
		req.Consents = append(req.Consents, &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING,
			Granted: true, PartnerCategory: p.Partners[v.ReferTo].Category, Date: day(v.Registered)})
		return l.register(ctx, c, p, "vot", v.Serial, v.Host, &victims[i], req)
	})
	if err != nil {
		return l.report(), err
	}
	if err := l.awaitProjections(ctx, c, p, avrr, victims); err != nil {
		return l.report(), err
	}
	err = l.each(ctx, p, func(ctx context.Context, i int) error {
		return l.avrr(ctx, c, p, &p.AVRR[i], avrr[i])
	}, func(ctx context.Context, i int) error {
		return l.hasm(ctx, c, p, &p.HASM[i], hasm[i])
	}, func(ctx context.Context, i int) error {
		return l.victim(ctx, c, p, &p.Victim[i], victims[i])
	})
	return l.report(), err
}

// awaitProjections waits, between the passes, until returns and trafficking show the last
// case registered for them: their consumers have then applied intake's events, and the
// second pass does not find every call waiting behind a backlog of tens of thousands of
// events. The services catch up on a read of a case they do not have yet; NOT_FOUND and
// UNAVAILABLE mean "not yet".
func (l *Loader) awaitProjections(ctx context.Context, c clients, p *Plan, avrr, victims []string) error {
	if n := len(p.AVRR); n > 0 {
		ctx, err := l.as(ctx, auth.RoleCaseworker, p.AVRR[n-1].Host)
		if err != nil {
			return err
		}
		if _, err := first(ctx, l, "GetReturn", c.returns.GetReturn, &returnsv1.GetReturnRequest{CaseId: avrr[n-1]}); err != nil {
			return fmt.Errorf("returns has not learnt of the AVRR cases: %w", err)
		}
	}
	if n := len(p.Victim); n > 0 {
		ctx, err := l.as(ctx, auth.RoleCaseworker, p.Victim[n-1].Host)
		if err != nil {
			return err
		}
		if _, err := first(ctx, l, "GetVictimCase", c.trafficking.GetVictimCase, &traffickingv1.GetVictimCaseRequest{CaseId: victims[n-1]}); err != nil {
			return fmt.Errorf("trafficking has not learnt of the victim cases: %w", err)
		}
	}
	return nil
}

// each runs avrr, hasm and victim for every case of their programme, Concurrency at a time,
// the programmes interleaved so that a partial run holds some of each. It stops at the first
// error.
func (l *Loader) each(ctx context.Context, p *Plan, avrr, hasm, victim func(context.Context, int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.Concurrency)
	for i := range max(len(p.AVRR), len(p.HASM), len(p.Victim)) {
		if gctx.Err() != nil {
			break
		}
		if i < len(p.AVRR) {
			g.Go(func() error { return avrr(gctx, i) })
		}
		if i < len(p.HASM) {
			g.Go(func() error { return hasm(gctx, i) })
		}
		if i < len(p.Victim) {
			g.Go(func() error { return victim(gctx, i) })
		}
	}
	return g.Wait()
}

func (l *Loader) progress() (stop func()) {
	if l.Progress == nil {
		return func() {}
	}
	every := l.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				l.Progress(l.report())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

type clients struct {
	intake      intakev1.IntakeServiceClient
	returns     returnsv1.ReturnServiceClient
	trafficking traffickingv1.TraffickingServiceClient
	hasm        hasmv1.StrandedMigrantServiceClient
	referral    referralv1.ReferralServiceClient
}

// as returns ctx carrying a token for role in mission.
func (l *Loader) as(ctx context.Context, role auth.Role, mission string) (context.Context, error) {
	return l.withToken(ctx, string(role)+"/"+mission, func() (string, error) {
		t, err := l.Tokens(role, mission)
		if err != nil {
			return "", fmt.Errorf("token for a %s of %s: %w", role, mission, err)
		}
		return t, nil
	})
}

// asPartner returns ctx carrying a token of the partner agency partnerID.
func (l *Loader) asPartner(ctx context.Context, partnerID string) (context.Context, error) {
	return l.withToken(ctx, "partner/"+partnerID, func() (string, error) {
		if l.PartnerTokens == nil {
			return "", errors.New("the plan refers victims to partners: Loader.PartnerTokens is not set")
		}
		t, err := l.PartnerTokens(partnerID)
		if err != nil {
			return "", fmt.Errorf("token for partner %s: %w", partnerID, err)
		}
		return t, nil
	})
}

// withToken returns ctx carrying the token kept under key, minted once by mint.
func (l *Loader) withToken(ctx context.Context, key string, mint func() (string, error)) (context.Context, error) {
	tok, ok := l.tokens.Load(key)
	if !ok {
		t, err := mint()
		if err != nil {
			return nil, err
		}
		tok, _ = l.tokens.LoadOrStore(key, t)
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok.(string)), nil
}

// retryable are the codes after which the same request is sent again.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}

// call makes one RPC, again with the same request (and so the same request id) while it
// fails with a retryable code, backing off from 50 ms to 2 s.
func call[Req, Resp any](ctx context.Context, l *Loader, what string, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	return retry(ctx, l, what, rpc, req, time.Time{})
}

// first is call for a programme's first step on a case just registered: NOT_FOUND, the
// programme service not having learnt of the case yet, is retried too, and neither it nor
// UNAVAILABLE (a catch-up that took too long) counts against Attempts, until AwaitCase has
// passed. A refused call writes nothing, so sending it again is safe.
func first[Req, Resp any](ctx context.Context, l *Loader, what string, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	return retry(ctx, l, what, rpc, req, time.Now().Add(l.AwaitCase))
}

func retry[Req, Resp any](ctx context.Context, l *Loader, what string, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req, awaitUntil time.Time) (Resp, error) {
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		l.calls.Add(1)
		resp, err := rpc(ctx, req)
		code := status.Code(err)
		awaiting := (code == codes.NotFound || code == codes.Unavailable) && time.Now().Before(awaitUntil)
		if awaiting {
			attempt = 1 // not a failure of the call: the case is on its way
		}
		if err == nil || !(retryable(err) || awaiting) || attempt == l.Attempts || ctx.Err() != nil {
			if err != nil {
				err = fmt.Errorf("%s: %w", what, err)
			}
			return resp, err
		}
		l.retries.Add(1)
		select {
		case <-ctx.Done():
			return resp, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func day(t time.Time) *date.Date { return civildate.FromTime(t) }

// person is the Person message of a planned person.
func person(p Person) *commonv1.Person {
	out := &commonv1.Person{GivenName: p.GivenName, FamilyName: p.FamilyName, DateOfBirth: day(p.Born), Sex: p.Sex, Nationality: p.Nationality}
	if p.Passport != "" {
		out.Documents = []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: p.Passport, IssuingCountry: p.Nationality}}
	}
	return out
}

// consents are the principal applicant's at registration: assistance and statistics.
func consents(on time.Time) []*commonv1.Consent {
	return []*commonv1.Consent{
		{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(on)},
		{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true, Date: day(on)},
	}
}

// register registers a case as a caseworker of its mission and records each household
// member's own consent to statistics (the principal's consent at registration speaks for
// the household's assistance, not for their being counted). It sets *id to the case id.
func (l *Loader) register(ctx context.Context, c clients, p *Plan, programme string, serial int, mission string, id *string, req *intakev1.RegisterCaseRequest) error {
	err := func() error {
		ctx, err := l.as(ctx, auth.RoleCaseworker, mission)
		if err != nil {
			return err
		}
		req.RequestId = p.RequestID(programme, serial, "register")
		resp, err := call(ctx, l, "RegisterCase", c.intake.RegisterCase, req)
		if err != nil {
			return err
		}
		kase := resp.GetCase()
		for i, m := range kase.GetHouseholdMembers() {
			r, err := call(ctx, l, "RecordConsent", c.intake.RecordConsent, &intakev1.RecordConsentRequest{
				RequestId: p.RequestID(programme, serial, fmt.Sprintf("consent/%d", i)), CaseId: kase.GetCaseId(), Version: kase.GetVersion(),
				Consent: &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true,
					Date: req.GetRegistrationDate(), SubjectId: m.GetSubjectId()},
			})
			if err != nil {
				return err
			}
			kase = r.GetCase()
		}
		*id = kase.GetCaseId()
		return nil
	}()
	if err != nil {
		return fmt.Errorf("%s case %d (mission %s): %w", programme, serial, mission, err)
	}
	l.cases.Add(1)
	l.persons.Add(int64(len(req.GetHouseholdMembers()) + 1))
	return nil
}

func newRegistration(mission string, programme commonv1.Programme, people []Person, vs []commonv1.Vulnerability, on time.Time) *intakev1.RegisterCaseRequest {
	req := &intakev1.RegisterCaseRequest{Mission: mission, Programme: programme, HostCountry: mission,
		Principal: person(people[0]), Vulnerabilities: vs, Consents: consents(on), RegistrationDate: day(on)}
	for _, m := range people[1:] {
		req.HouseholdMembers = append(req.HouseholdMembers, person(m))
	}
	return req
}

// avrr walks one registered AVRR case: eligibility, the pre-departure steps, departure.
func (l *Loader) avrr(ctx context.Context, c clients, p *Plan, a *AVRRCase, id string) error {
	err := func() error {
		ctx, err := l.as(ctx, auth.RoleCaseworker, a.Host)
		if err != nil {
			return err
		}
		// Returns opens the return at version 1 when it learns of the case from intake's
		// events; its calls catch up with them when the return is not there yet.
		r, err := first(ctx, l, "RecordEligibility", c.returns.RecordEligibility, &returnsv1.RecordEligibilityRequest{
			RequestId: p.RequestID("avrr", a.Serial, "eligibility"), CaseId: id, Version: 1,
			Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE,
				CounsellingDate: day(a.Counselled), DecisionDate: day(a.Decided)},
		})
		if err != nil {
			return err
		}
		version := r.GetReturn().GetVersion()
		for i, s := range a.Steps {
			r, err := call(ctx, l, "RecordPreDepartureStep", c.returns.RecordPreDepartureStep, &returnsv1.RecordPreDepartureStepRequest{
				RequestId: p.RequestID("avrr", a.Serial, fmt.Sprintf("step/%d", i)), CaseId: id, Version: version, Step: s,
			})
			if err != nil {
				return err
			}
			version = r.GetReturn().GetVersion()
		}
		_, err = call(ctx, l, "RecordDeparture", c.returns.RecordDeparture, &returnsv1.RecordDepartureRequest{
			RequestId: p.RequestID("avrr", a.Serial, "departure"), CaseId: id, Version: version,
			DepartureDate: day(a.Departed), ReturnCountry: a.Return,
		})
		return err
	}()
	if err != nil {
		return fmt.Errorf("AVRR case %d (mission %s): %w", a.Serial, a.Host, err)
	}
	return nil
}

// fund creates the HASM fund at HQ, with the budget the approvals need. A fund of that code
// and year made by an earlier run is used as it is.
func (l *Loader) fund(ctx context.Context, c clients, p *Plan) error {
	ctx, err := l.as(ctx, auth.RoleProgrammeManager, auth.MissionHQ)
	if err != nil {
		return err
	}
	_, err = call(ctx, l, "CreateFund", c.hasm.CreateFund, &hasmv1.CreateFundRequest{
		RequestId: p.RequestID("hasm", 0, "fund"), Code: p.FundCode, Year: int32(p.Config.Year), Currency: "USD", Budget: p.FundBudget,
	})
	if status.Code(err) == codes.AlreadyExists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("HASM fund %s: %w", p.FundCode, err)
	}
	return nil
}

// hasm walks one registered stranded migrant's case: the request in the mission, the
// decision at HQ, and for an approval the departure.
func (l *Loader) hasm(ctx context.Context, c clients, p *Plan, h *HASMCase, id string) error {
	err := func() error {
		field, err := l.as(ctx, auth.RoleCaseworker, h.Host)
		if err != nil {
			return err
		}
		hq, err := l.as(ctx, auth.RoleProgrammeManager, auth.MissionHQ)
		if err != nil {
			return err
		}
		r, err := first(field, l, "RequestAssistance", c.hasm.RequestAssistance, &hasmv1.RequestAssistanceRequest{
			RequestId: p.RequestID("hasm", h.Serial, "request"), CaseId: id,
			StrandedReason: h.StrandedReason, NoOtherAssistanceReason: h.NoOtherAssistance,
			EstimatedCost: h.EstimatedCost, Currency: "USD", FundCode: p.FundCode, FundYear: int32(p.Config.Year),
		})
		if err != nil {
			return err
		}
		decision := &hasmv1.DecideRequestRequest{RequestId: p.RequestID("hasm", h.Serial, "decision"),
			CaseId: id, Version: r.GetRequest().GetVersion(), Decision: hasmv1.Decision_DECISION_APPROVE}
		if !h.Approve {
			decision.Decision, decision.RejectionReason = hasmv1.Decision_DECISION_REJECT, h.Rejection
		}
		d, err := call(hq, l, "DecideRequest", c.hasm.DecideRequest, decision)
		if err != nil || !h.Approve {
			return err
		}
		_, err = call(field, l, "RecordDeparture", c.hasm.RecordDeparture, &hasmv1.RecordDepartureRequest{
			RequestId: p.RequestID("hasm", h.Serial, "departure"), CaseId: id, Version: d.GetRequest().GetVersion(),
			DepartureDate: day(h.Departed), ReturnCountry: h.Nationality,
		})
		return err
	}()
	if err != nil {
		return fmt.Errorf("HASM case %d (mission %s): %w", h.Serial, h.Host, err)
	}
	return nil
}

// victim walks one registered victim of trafficking: screening, the exploitation, one
// assistance, a referral.
func (l *Loader) victim(ctx context.Context, c clients, p *Plan, v *VictimCase, id string) error {
	err := func() error {
		ctx, err := l.as(ctx, auth.RoleCaseworker, v.Host)
		if err != nil {
			return err
		}
		s, err := first(ctx, l, "RecordScreening", c.trafficking.RecordScreening, &traffickingv1.RecordScreeningRequest{
			RequestId: p.RequestID("vot", v.Serial, "screening"), CaseId: id, Version: 1,
			Status: v.Identification, IdentifiedBy: v.IdentifiedBy, Date: day(v.Screened),
		})
		if err != nil {
			return err
		}
		e, err := call(ctx, l, "RecordExploitation", c.trafficking.RecordExploitation, &traffickingv1.RecordExploitationRequest{
			RequestId: p.RequestID("vot", v.Serial, "exploitation"), CaseId: id, Version: s.GetVictimCase().GetVersion(),
			Exploitation: v.Exploitation,
		})
		if err != nil {
			return err
		}
		_, err = call(ctx, l, "RecordAssistance", c.trafficking.RecordAssistance, &traffickingv1.RecordAssistanceRequest{
			RequestId: p.RequestID("vot", v.Serial, "assistance"), CaseId: id, Version: e.GetVictimCase().GetVersion(),
			Type: v.Assistance, StartDate: day(v.AssistanceStart), Provider: "IOM-" + v.Host,
		})
		return err
	}()
	if err == nil {
		err = l.refer(ctx, c, p, v, id)
	}
	if err != nil {
		return fmt.Errorf("victim case %d (mission %s): %w", v.Serial, v.Host, err)
	}
	return nil
}

// partners registers the plan's partner agencies at HQ, with the data profile of shelter
// referrals, and keeps their ids. A partner of the same code that an earlier load of another
// plan registered is looked up and used as it is.
func (l *Loader) partners(ctx context.Context, c clients, p *Plan) error {
	hq, err := l.as(ctx, auth.RoleProgrammeManager, auth.MissionHQ)
	if err != nil {
		return err
	}
	l.partnerIDs = make([]string, len(p.Partners))
	for i, pt := range p.Partners {
		resp, err := call(hq, l, "RegisterPartner", c.referral.RegisterPartner, &referralv1.RegisterPartnerRequest{
			RequestId: p.RequestID("referral", i, "partner"), Code: pt.Code, Name: "Demo " + pt.Code, Category: pt.Category,
			Services: []*referralv1.PartnerService{{Name: "Shelter and protection",
				Categories: []referralv1.ServiceCategory{referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
			Countries:  pt.Countries,
			Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_HTTP_JSON},
			Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-" + pt.Code,
				StartDate: &date.Date{Year: int32(p.Config.Year), Month: 1, Day: 1}, ExpiryDate: &date.Date{Year: 2099, Month: 12, Day: 31}},
		})
		switch {
		case status.Code(err) == codes.AlreadyExists:
			if l.partnerIDs[i], err = l.partnerByCode(hq, c, pt.Code); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("partner %s: %w", pt.Code, err)
		default:
			l.partnerIDs[i] = resp.GetPartner().GetPartnerId()
		}
	}
	_, err = call(hq, l, "PublishDataProfile", c.referral.PublishDataProfile, &referralv1.PublishDataProfileRequest{
		RequestId: p.RequestID("referral", 0, "profile"), ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Fields: []referralv1.SharedField{referralv1.SharedField_SHARED_FIELD_SEX, referralv1.SharedField_SHARED_FIELD_AGE_BAND,
			referralv1.SharedField_SHARED_FIELD_NATIONALITY},
	})
	if err != nil {
		return fmt.Errorf("shelter data profile: %w", err)
	}
	return nil
}

// partnerByCode finds a partner of the registry by its code.
func (l *Loader) partnerByCode(ctx context.Context, c clients, code string) (string, error) {
	req := &referralv1.ListPartnersRequest{PageSize: 100}
	for {
		resp, err := call(ctx, l, "ListPartners", c.referral.ListPartners, req)
		if err != nil {
			return "", err
		}
		for _, pt := range resp.GetPartners() {
			if pt.GetCode() == code {
				return pt.GetPartnerId(), nil
			}
		}
		if resp.GetNextPageToken() == "" {
			return "", fmt.Errorf("partner %s: registered, yet not listed", code)
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// refer refers a victim to their partner for shelter, as the caseworker of their mission,
// and has the partner answer it as the plan says: accept (and complete), decline, or not yet.
// ctx carries no token: each caller's is added here.
func (l *Loader) refer(ctx context.Context, c clients, p *Plan, v *VictimCase, caseID string) error {
	field, err := l.as(ctx, auth.RoleCaseworker, v.Host)
	if err != nil {
		return err
	}
	partnerID := l.partnerIDs[v.ReferTo]
	// The referral service learns of the case from intake's events: NOT_FOUND until then.
	d, err := first(field, l, "CreateReferral", c.referral.CreateReferral, &referralv1.CreateReferralRequest{
		RequestId: p.RequestID("vot", v.Serial, "referral"), CaseId: caseID, PartnerId: partnerID,
		ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Reason:          referralv1.ReferralReason_REFERRAL_REASON_NATIONAL_REFERRAL_MECHANISM,
	})
	if err != nil {
		return err
	}
	s, err := call(field, l, "SendReferral", c.referral.SendReferral, &referralv1.SendReferralRequest{
		RequestId: p.RequestID("vot", v.Serial, "referral/send"), ReferralId: d.GetReferral().GetReferralId(),
		Version: d.GetReferral().GetVersion(),
	})
	if err != nil || v.Referral == referralv1.ReferralStatus_REFERRAL_STATUS_SENT {
		return err
	}
	partner, err := l.asPartner(ctx, partnerID)
	if err != nil {
		return err
	}
	r := s.GetReferral()
	if v.Referral == referralv1.ReferralStatus_REFERRAL_STATUS_DECLINED {
		_, err := call(partner, l, "DeclineReferral", c.referral.DeclineReferral, &referralv1.DeclineReferralRequest{
			RequestId: p.RequestID("vot", v.Serial, "referral/decline"), ReferralId: r.GetReferralId(), Version: r.GetVersion(),
			Reason: referralv1.DeclineReason_DECLINE_REASON_NO_CAPACITY,
		})
		return err
	}
	a, err := call(partner, l, "AcceptReferral", c.referral.AcceptReferral, &referralv1.AcceptReferralRequest{
		RequestId: p.RequestID("vot", v.Serial, "referral/accept"), ReferralId: r.GetReferralId(), Version: r.GetVersion(),
	})
	if err != nil || v.Referral != referralv1.ReferralStatus_REFERRAL_STATUS_COMPLETED {
		return err
	}
	_, err = call(partner, l, "CompleteReferral", c.referral.CompleteReferral, &referralv1.CompleteReferralRequest{
		RequestId: p.RequestID("vot", v.Serial, "referral/complete"), ReferralId: r.GetReferralId(),
		Version: a.GetReferral().GetVersion(), Outcome: referralv1.ServiceOutcome_SERVICE_OUTCOME_DELIVERED,
	})
	return err
}
