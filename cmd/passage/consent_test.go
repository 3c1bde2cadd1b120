package main

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const testSubjectID = "a1b2c3d4-0000-4000-8000-000000000001"

func TestConsentRequest(t *testing.T) {
	t.Parallel()
	today := &date.Date{Year: 2026, Month: 3, Day: 14}
	base := consentFlags{version: 3, subject: testSubjectID, purpose: "statistics", requestID: testRequestID}
	with := func(edit func(*consentFlags)) consentFlags {
		f := base
		edit(&f)
		return f
	}
	want := func(x *commonv1.Consent) *intakev1.RecordConsentRequest {
		x.SubjectId = testSubjectID
		if x.Date == nil {
			x.Date = today
		}
		return &intakev1.RecordConsentRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 3, Consent: x}
	}
	tests := []struct {
		name    string
		flags   consentFlags
		want    *intakev1.RecordConsentRequest
		wantErr string
	}{
		{"given today", base, want(&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true}), ""},
		{"refused on a day", with(func(f *consentFlags) { f.refused, f.date = true, "2026-03-01" }),
			want(&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Date: &date.Date{Year: 2026, Month: 3, Day: 1}}), ""},
		{"sharing with a partner", with(func(f *consentFlags) { f.purpose, f.partner = "data_sharing", " unhcr " }),
			want(&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "UNHCR"}), ""},
		{"sharing with a category", with(func(f *consentFlags) { f.purpose, f.category = "data_sharing", "ngo" }),
			want(&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true,
				PartnerCategory: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO}), ""},
		{"a legal basis", with(func(f *consentFlags) { f.purpose, f.basis = "assistance", "vital_interests" }),
			want(&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE,
				LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS}), ""},
		{"no version", with(func(f *consentFlags) { f.version = 0 }), nil, "--version is required: the version you read (passage case get)"},
		{"no subject", with(func(f *consentFlags) { f.subject = " " }), nil, "--subject is required: the subject id of the person (passage case get)"},
		{"no purpose", with(func(f *consentFlags) { f.purpose = "" }), nil, "--purpose must be one of " + purposes.list()},
		{"a bad category", with(func(f *consentFlags) { f.category = "club" }), nil, "--category must be one of " + partnerCategories.list()},
		{"a bad basis", with(func(f *consentFlags) { f.basis = "whim" }), nil, "--basis must be one of " + legalBases.list()},
		{"a bad date", with(func(f *consentFlags) { f.date = "2026-03" }), nil, "--date: " + errFullDateFormat.Error()},
	}
	for _, tt := range tests {
		got, err := consentRequest(testCaseID, tt.flags, today)
		if errString(err) != tt.wantErr {
			t.Errorf("%s: error = %q, want %q", tt.name, errString(err), tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestWithdrawRequest(t *testing.T) {
	t.Parallel()
	today := &date.Date{Year: 2026, Month: 3, Day: 14}
	consentID := "c0c0c0c0-0000-4000-8000-000000000002"
	got, err := withdrawRequest(testCaseID, 4, consentID, "", testRequestID, today)
	want := &intakev1.WithdrawConsentRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 4, ConsentId: consentID, Date: today}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("withdrawRequest (-want +got):\n%s", diff)
	}
	got, err = withdrawRequest(testCaseID, 4, consentID, "2026-03-02", testRequestID, today)
	if err != nil || got.GetDate().GetDay() != 2 {
		t.Errorf("withdrawRequest with --date: %v, %v", got.GetDate(), err)
	}
	for _, tt := range []struct {
		version         int64
		consentID, date string
		wantErr         string
	}{
		{0, consentID, "", "--version is required: the version you read (passage case get)"},
		{4, "", "", "--consent is required: the id of the consent record (passage case get)"},
		{4, consentID, "14/03/2026", "--date: " + errFullDateFormat.Error()},
	} {
		if _, err := withdrawRequest(testCaseID, tt.version, tt.consentID, tt.date, testRequestID, today); errString(err) != tt.wantErr {
			t.Errorf("withdrawRequest(%d, %q, %q) error = %q, want %q", tt.version, tt.consentID, tt.date, errString(err), tt.wantErr)
		}
	}
}

func TestFormatConsent(t *testing.T) {
	t.Parallel()
	day := &date.Date{Year: 2026, Month: 3, Day: 14}
	tests := []struct {
		c    *commonv1.Consent
		want string
	}{
		{&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day, RecordedBy: "staff-1",
			SubjectId: "s1", ConsentId: "c1", InForce: true},
			"assistance granted 2026-03-14 by staff-1  (subject s1, consent c1, in force)"},
		{&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Date: day,
			LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS, SubjectId: "s1", ConsentId: "c2", InForce: true},
			"assistance on vital_interests 2026-03-14  (subject s1, consent c2, in force)"},
		{&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Date: day,
			PartnerCategory: commonv1.PartnerCategory_PARTNER_CATEGORY_UN_AGENCY, SubjectId: "s2", ConsentId: "c3",
			Withdrawal: &commonv1.ConsentWithdrawal{Date: day, RecordedBy: "staff-2"}},
			"data_sharing with any un_agency granted 2026-03-14, withdrawn 2026-03-14 by staff-2  (subject s2, consent c3)"},
		{&commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Date: day}, "statistics refused 2026-03-14"},
	}
	for _, tt := range tests {
		if got := formatConsent(tt.c); got != tt.want {
			t.Errorf("formatConsent:\n got %q\nwant %q", got, tt.want)
		}
	}
}

func (f *fakeIntake) RecordConsent(_ context.Context, req *intakev1.RecordConsentRequest, _ ...grpc.CallOption) (*intakev1.RecordConsentResponse, error) {
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	return f.resp.(*intakev1.RecordConsentResponse), nil
}

func (f *fakeIntake) WithdrawConsent(_ context.Context, req *intakev1.WithdrawConsentRequest, _ ...grpc.CallOption) (*intakev1.WithdrawConsentResponse, error) {
	f.requests = append(f.requests, req)
	if f.err != nil {
		return nil, f.err
	}
	return f.resp.(*intakev1.WithdrawConsentResponse), nil
}

func TestConsentCommands(t *testing.T) {
	t.Parallel()
	fake := &fakeIntake{resp: &intakev1.RecordConsentResponse{Case: testCase()}}
	c, stdout, _ := newTestCLI(fake, tokenEnv)
	if err := c.caseRun(t.Context(), []string{"consent", testCaseID, "--version", "2", "--subject", testSubjectID, "--purpose", "assistance",
		"--basis", "public_interest"}); err != nil {
		t.Fatalf("consent: %v", err)
	}
	if diff := cmp.Diff(testCaseText, stdout.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}

	fake.resp = &intakev1.WithdrawConsentResponse{Case: testCase()}
	if err := c.caseRun(t.Context(), []string{"withdraw", testCaseID, "--version", "3", "--consent", testSubjectID}); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	today := &date.Date{Year: 2026, Month: 3, Day: 14}
	want := []proto.Message{
		&intakev1.RecordConsentRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 2, Consent: &commonv1.Consent{
			SubjectId: testSubjectID, Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Date: today,
			LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_PUBLIC_INTEREST}},
		&intakev1.WithdrawConsentRequest{RequestId: testRequestID, CaseId: testCaseID, Version: 3, ConsentId: testSubjectID, Date: today},
	}
	if diff := cmp.Diff(want, fake.requests, protocmp.Transform()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}
