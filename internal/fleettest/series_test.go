package fleettest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/retrypolicy"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// seriesMissions register the series' cases, in turn, each in all three programmes.
var seriesMissions = []string{"NER", "LBY", "MAR"}

// seriesCase is a case of the series and the version its last change was acknowledged with.
type seriesCase struct {
	caseID  string
	version int64
}

// series registers n cases and makes four changes to each, one after the other (the status
// to ACTIVE, a consent to share with UNHCR, the vulnerabilities, the status to SUSPENDED), so
// that every case goes through versions 1 to 5; concurrency cases at a time. Every call is
// sent again with its request id while it fails UNAVAILABLE or ABORTED (a process killed
// under it): a change that did commit answers its first result. token gives a caseworker's
// bearer token in a mission.
func series(ctx context.Context, conn grpc.ClientConnInterface, token func(mission string) (string, error), n, concurrency int) ([]*seriesCase, error) {
	client := intakev1.NewIntakeServiceClient(conn)
	out := make([]*seriesCase, n)
	programmes := []commonv1.Programme{commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_VOT, commonv1.Programme_PROGRAMME_HASM}
	var mu sync.Mutex // rand
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 19))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i := range n {
		g.Go(func() error {
			mission := seriesMissions[i%len(seriesMissions)]
			tok, err := token(mission)
			if err != nil {
				return err
			}
			ctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
			mu.Lock()
			req := registration(rng, mission, programmes[(i/len(seriesMissions))%len(programmes)])
			mu.Unlock()
			c, err := change(ctx, "RegisterCase", func(ctx context.Context) (*intakev1.Case, error) {
				r, err := client.RegisterCase(ctx, req)
				return r.GetCase(), err
			})
			if err != nil {
				return fmt.Errorf("case %d of the series: %w", i, err)
			}
			for _, step := range seriesSteps {
				c, err = change(ctx, step.name, func(ctx context.Context) (*intakev1.Case, error) {
					return step.call(ctx, client, c)
				})
				if err != nil {
					return fmt.Errorf("case %d of the series, version %d: %w", i, c.GetVersion(), err)
				}
			}
			out[i] = &seriesCase{caseID: c.GetCaseId(), version: c.GetVersion()}
			return nil
		})
	}
	return out, g.Wait()
}

// seriesStep is one change of a series' case: a call that takes the case as last answered
// (its version) and returns it changed. Its request id is fixed before the first attempt.
type seriesStep struct {
	name string
	call func(context.Context, intakev1.IntakeServiceClient, *intakev1.Case) (*intakev1.Case, error)
}

var seriesSteps = []seriesStep{
	{"UpdateCase status ACTIVE", updateStatus(intakev1.CaseStatus_CASE_STATUS_ACTIVE)},
	{"RecordConsent DATA_SHARING", func(ctx context.Context, client intakev1.IntakeServiceClient, c *intakev1.Case) (*intakev1.Case, error) {
		r, err := client.RecordConsent(ctx, &intakev1.RecordConsentRequest{RequestId: requestID(c), CaseId: c.GetCaseId(), Version: c.GetVersion(),
			Consent: &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "UNHCR",
				Date: today(), SubjectId: c.GetPrincipal().GetSubjectId()}})
		return r.GetCase(), err
	}},
	{"UpdateCase vulnerabilities", func(ctx context.Context, client intakev1.IntakeServiceClient, c *intakev1.Case) (*intakev1.Case, error) {
		vs := append([]commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS}, c.GetVulnerabilities()...)
		r, err := client.UpdateCase(ctx, &intakev1.UpdateCaseRequest{RequestId: requestID(c), CaseId: c.GetCaseId(), Version: c.GetVersion(),
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"vulnerabilities"}}, Vulnerabilities: vs})
		return r.GetCase(), err
	}},
	{"UpdateCase status SUSPENDED", updateStatus(intakev1.CaseStatus_CASE_STATUS_SUSPENDED)},
}

func updateStatus(s intakev1.CaseStatus) func(context.Context, intakev1.IntakeServiceClient, *intakev1.Case) (*intakev1.Case, error) {
	return func(ctx context.Context, client intakev1.IntakeServiceClient, c *intakev1.Case) (*intakev1.Case, error) {
		r, err := client.UpdateCase(ctx, &intakev1.UpdateCaseRequest{RequestId: requestID(c), CaseId: c.GetCaseId(), Version: c.GetVersion(),
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: s})
		return r.GetCase(), err
	}
}

// requestID is the request id of the change made to c at its version: the same in every
// attempt of that change, another for the next.
func requestID(c *intakev1.Case) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "fleettest/%s/%d", c.GetCaseId(), c.GetVersion())).String()
}

// change makes a call until it is answered other than UNAVAILABLE or ABORTED, and checks the
// case it returns.
func change(ctx context.Context, what string, call func(context.Context) (*intakev1.Case, error)) (*intakev1.Case, error) {
	var c *intakev1.Case
	err := retrypolicy.Do(ctx, func(ctx context.Context) error {
		var err error
		c, err = call(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

// registration is a synthetic registration: a principal whose names are syllables, with a
// passport number drawn at random, consenting to assistance and to statistics.
func registration(rng *rand.Rand, mission string, programme commonv1.Programme) *intakev1.RegisterCaseRequest {
	syllables := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "za", "be"}
	name := func() string {
		s := ""
		for range 3 {
			s += syllables[rng.IntN(len(syllables))]
		}
		return "Fleet-" + s
	}
	req := &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(), Mission: mission, Programme: programme, HostCountry: mission,
		Principal: &commonv1.Person{GivenName: name(), FamilyName: name(), Nationality: "MLI", Sex: commonv1.Sex_SEX_FEMALE,
			DateOfBirth: &date.Date{Year: int32(1960 + rng.IntN(40)), Month: int32(1 + rng.IntN(12)), Day: int32(1 + rng.IntN(28))},
			Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT,
				Number: fmt.Sprintf("FL%08d", rng.IntN(100_000_000)), IssuingCountry: "MLI"}}},
		Consents: []*commonv1.Consent{
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: today()},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true, Date: today()},
		},
		RegistrationDate: today()}
	if programme == commonv1.Programme_PROGRAMME_VOT {
		req.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}
	}
	return req
}

func today() *date.Date { return civildate.FromTime(time.Now()) }
