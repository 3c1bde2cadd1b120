package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/civildate"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// The consent commands: `passage case consent` records a consent record for a person of a
// case, `passage case withdraw` withdraws one.

var (
	legalBases        = newEnumNames(commonv1.LegalBasis_value)
	partnerCategories = newEnumNames(commonv1.PartnerCategory_value)
)

// consentFlags are the flags of `case consent`.
type consentFlags struct {
	version   int64
	subject   string
	purpose   string
	partner   string
	category  string
	basis     string
	refused   bool
	date      string
	requestID string
}

func (c *client) caseConsent(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "consent", "consent CASE_ID --version N --subject ID --purpose P [--partner A | --category C] [--refused] [--basis B] [--date D]", nil)
	var f consentFlags
	fs.Int64Var(&f.version, "version", 0, "the case version you read (passage case get); required")
	fs.StringVar(&f.subject, "subject", "", "subject `ID` of the person of the case the record is for; required")
	fs.StringVar(&f.purpose, "purpose", "", "`PURPOSE`: "+purposes.list()+"; required")
	fs.StringVar(&f.partner, "partner", "", "for data_sharing: the partner agency's `CODE` (e.g. UNHCR)")
	fs.StringVar(&f.category, "category", "", "for data_sharing: any partner of this `CATEGORY`: "+partnerCategories.list())
	fs.BoolVar(&f.refused, "refused", false, "the person refused (default: consent given)")
	fs.StringVar(&f.basis, "basis", "", "the legal `BASIS` the processing rests on instead of consent: "+legalBases.list())
	fs.StringVar(&f.date, "date", "", "the `DAY` (YYYY-MM-DD) consent was given or refused (default: today)")
	fs.StringVar(&f.requestID, "request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case consent takes one CASE_ID")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req, err := consentRequest(pos[0], f, civildate.FromTime(c.now()))
	if err != nil {
		return err
	}
	if req.GetRequestId() == "" {
		req.RequestId = c.newRequestID()
	}
	c.announceRequestID(req.GetRequestId())
	return unary(ctx, c, o, "RecordConsent", req.GetRequestId(), intakev1.IntakeServiceClient.RecordConsent, req,
		func(w io.Writer, resp *intakev1.RecordConsentResponse) error { return formatCase(w, resp.GetCase()) })
}

func (c *client) caseWithdraw(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "withdraw", "withdraw CASE_ID --version N --consent ID [--date D]", nil)
	version := fs.Int64("version", 0, "the case version you read (passage case get); required")
	consentID := fs.String("consent", "", "`ID` of the consent record to withdraw (passage case get lists them); required")
	day := fs.String("date", "", "the `DAY` (YYYY-MM-DD) the person withdrew (default: today)")
	requestID := fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case withdraw takes one CASE_ID")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req, err := withdrawRequest(pos[0], *version, *consentID, *day, *requestID, civildate.FromTime(c.now()))
	if err != nil {
		return err
	}
	if req.GetRequestId() == "" {
		req.RequestId = c.newRequestID()
	}
	c.announceRequestID(req.GetRequestId())
	return unary(ctx, c, o, "WithdrawConsent", req.GetRequestId(), intakev1.IntakeServiceClient.WithdrawConsent, req,
		func(w io.Writer, resp *intakev1.WithdrawConsentResponse) error { return formatCase(w, resp.GetCase()) })
}

// consentRequest builds the RecordConsentRequest the flags describe; today dates the record
// when --date is not given.
func consentRequest(caseID string, f consentFlags, today *date.Date) (*intakev1.RecordConsentRequest, error) {
	if f.version <= 0 {
		return nil, errors.New("--version is required: the version you read (passage case get)")
	}
	if strings.TrimSpace(f.subject) == "" {
		return nil, errors.New("--subject is required: the subject id of the person (passage case get)")
	}
	x := &commonv1.Consent{SubjectId: strings.TrimSpace(f.subject), Granted: !f.refused, Date: today,
		Partner: strings.ToUpper(strings.TrimSpace(f.partner))}
	var err error
	if x.Purpose, err = parseEnum[commonv1.ConsentPurpose](purposes, f.purpose); err != nil {
		return nil, fmt.Errorf("--purpose %w", err)
	}
	if f.category != "" {
		if x.PartnerCategory, err = parseEnum[commonv1.PartnerCategory](partnerCategories, f.category); err != nil {
			return nil, fmt.Errorf("--category %w", err)
		}
	}
	if f.basis != "" {
		if x.LegalBasis, err = parseEnum[commonv1.LegalBasis](legalBases, f.basis); err != nil {
			return nil, fmt.Errorf("--basis %w", err)
		}
		// A basis other than consent means the person's consent is not what is recorded.
		if x.LegalBasis != commonv1.LegalBasis_LEGAL_BASIS_CONSENT {
			x.Granted = false
		}
	}
	if f.date != "" {
		if x.Date, err = parseFullDate(f.date); err != nil {
			return nil, fmt.Errorf("--date: %w", err)
		}
	}
	return &intakev1.RecordConsentRequest{RequestId: strings.TrimSpace(f.requestID), CaseId: caseID, Version: f.version, Consent: x}, nil
}

// withdrawRequest builds a WithdrawConsentRequest; today dates it when day is empty.
func withdrawRequest(caseID string, version int64, consentID, day, requestID string, today *date.Date) (*intakev1.WithdrawConsentRequest, error) {
	if version <= 0 {
		return nil, errors.New("--version is required: the version you read (passage case get)")
	}
	if strings.TrimSpace(consentID) == "" {
		return nil, errors.New("--consent is required: the id of the consent record (passage case get)")
	}
	req := &intakev1.WithdrawConsentRequest{RequestId: strings.TrimSpace(requestID), CaseId: caseID, Version: version,
		ConsentId: strings.TrimSpace(consentID), Date: today}
	if day != "" {
		d, err := parseFullDate(day)
		if err != nil {
			return nil, fmt.Errorf("--date: %w", err)
		}
		req.Date = d
	}
	return req, nil
}
