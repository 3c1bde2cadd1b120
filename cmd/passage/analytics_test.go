package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/intake"
)

// fakeAnalytics records the last request and answers with resp.
type fakeAnalytics struct {
	analyticsv1.AnalyticsServiceClient
	got  proto.Message
	resp proto.Message
}

func (f *fakeAnalytics) Aggregate(_ context.Context, req *analyticsv1.AggregateRequest, _ ...grpc.CallOption) (*analyticsv1.AggregateResponse, error) {
	f.got = req
	if r, ok := f.resp.(*analyticsv1.AggregateResponse); ok {
		return r, nil
	}
	return &analyticsv1.AggregateResponse{K: 11}, nil
}

func (f *fakeAnalytics) ExportAggregate(_ context.Context, req *analyticsv1.ExportAggregateRequest, _ ...grpc.CallOption) (*analyticsv1.ExportAggregateResponse, error) {
	f.got = req
	return &analyticsv1.ExportAggregateResponse{Csv: []byte("sex,persons\n#gender,#reached+ind\nfemale,12\n"), K: 11}, nil
}

func (f *fakeAnalytics) ExportVictimRecords(_ context.Context, req *analyticsv1.ExportVictimRecordsRequest, _ ...grpc.CallOption) (*analyticsv1.ExportVictimRecordsResponse, error) {
	f.got = req
	return &analyticsv1.ExportVictimRecordsResponse{Csv: []byte("gender,ageBroad\n"), K: 11}, nil
}

func (f *fakeAnalytics) GetPrivacyBudget(_ context.Context, req *analyticsv1.GetPrivacyBudgetRequest, _ ...grpc.CallOption) (*analyticsv1.GetPrivacyBudgetResponse, error) {
	f.got = req
	return &analyticsv1.GetPrivacyBudgetResponse{Year: 2026, Budget: 10, Spent: 0.5, Remaining: 9.5}, nil
}

func newAnalyticsCLI(f *fakeAnalytics) (*client, *bytes.Buffer, *bytes.Buffer) {
	c, stdout, stderr := testCLI(map[string]string{"PASSAGE_TOKEN": "tok"})
	return &client{cli: c,
		analytics: func(clientOptions) (analyticsv1.AnalyticsServiceClient, func(), error) { return f, func() {}, nil },
	}, stdout, stderr
}

func TestAnalyticsCommandsBuildRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want proto.Message
	}{
		{[]string{"aggregate", "persons_returned", "--by", "sex,host_region", "--by", "return_region", "--year", "2015"},
			&analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
				GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_SEX, analyticsv1.Dimension_DIMENSION_HOST_REGION,
					analyticsv1.Dimension_DIMENSION_RETURN_REGION},
				Filter: &analyticsv1.Filter{YearFrom: 2015, YearTo: 2015}}},
		{[]string{"aggregate", "MEASURE_CASES_REGISTERED", "--programme", "avrr,hasm", "--host-country", "deu", "--host-region", "EEA",
			"--return-country", "irq", "--return-region", "mena", "--nationality", "afg", "--from", "2014", "--to", "2016", "--k", "20"},
			&analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED,
				Filter: &analyticsv1.Filter{YearFrom: 2014, YearTo: 2016,
					Programmes:    []commonv1.Programme{commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_HASM},
					HostCountries: []string{"DEU"}, HostRegions: []string{"EEA"}, ReturnCountries: []string{"IRQ"},
					ReturnRegions: []string{"MENA"}, Nationalities: []string{"AFG"}},
				Release: &analyticsv1.AggregateRequest_Suppression{Suppression: &analyticsv1.Suppression{K: 20}}}},
		{[]string{"aggregate", "persons_returned", "--by", "return_region", "--epsilon", "0.5"},
			&analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
				GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_REGION}, Filter: &analyticsv1.Filter{},
				Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: 0.5}}}},
		{[]string{"export", "victims_identified", "--by", "exploitation_type", "--k", "15", "--year", "2015"},
			&analyticsv1.ExportAggregateRequest{Measure: analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED,
				GroupBy:     []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE},
				Filter:      &analyticsv1.Filter{YearFrom: 2015, YearTo: 2015},
				Suppression: &analyticsv1.Suppression{K: 15}}},
		{[]string{"export", "persons_returned", "--by", "return_region", "--epsilon", "0.25"},
			&analyticsv1.ExportAggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
				GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_REGION}, Filter: &analyticsv1.Filter{},
				DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: 0.25}}},
		{[]string{"victims", "--from", "2015", "--to", "2016", "--country", "tha,mys", "--citizenship", "mmr", "--k", "12"},
			&analyticsv1.ExportVictimRecordsRequest{K: 12, Filter: &analyticsv1.VictimRecordFilter{YearFrom: 2015, YearTo: 2016,
				CountriesOfExploitation: []string{"THA", "MYS"}, Citizenships: []string{"MMR"}}}},
		{[]string{"budget", "--year", "2025"}, &analyticsv1.GetPrivacyBudgetRequest{Year: 2025}},
	}
	for _, tt := range tests {
		f := &fakeAnalytics{}
		c, _, stderr := newAnalyticsCLI(f)
		if err := c.analyticsRun(context.Background(), tt.args); err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, stderr)
		}
		if diff := cmp.Diff(tt.want, f.got, protocmp.Transform()); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestAnalyticsCommandsRefuseBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"aggregate"}, "aggregate takes one MEASURE: cases_registered, persons_returned"},
		{[]string{"aggregate", "persons_counted"}, "MEASURE must be one of"},
		{[]string{"aggregate", "persons_returned", "--by", "colour"}, "--by must be one of"},
		{[]string{"aggregate", "persons_returned", "--programme", "erasmus"}, "--programme must be one of"},
		{[]string{"aggregate", "persons_returned", "--year", "2015", "--from", "2014"}, "--year counts one year"},
		{[]string{"aggregate", "persons_returned", "--k", "20", "--epsilon", "1"}, "choose one"},
		{[]string{"export"}, "export takes one MEASURE"},
		{[]string{"export", "persons_returned", "--k", "20", "--epsilon", "0.5"}, "choose one"},
		{[]string{"victims", "extra"}, "victims takes no argument"},
		{[]string{"regions", "EEA"}, "regions takes no argument"},
		{[]string{"forecast"}, `analytics: unknown command "forecast"`},
	}
	for _, tt := range tests {
		f := &fakeAnalytics{}
		c, _, _ := newAnalyticsCLI(f)
		err := c.analyticsRun(context.Background(), tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.want)
		}
		if f.got != nil {
			t.Errorf("%v: called the server", tt.args)
		}
	}
}

// The table: the cells, then the totals ("all"), a withheld count as x without a share, the
// shares of the grand total, the number of values, and how the table was released.
func TestAnalyticsAggregateTable(t *testing.T) {
	t.Parallel()
	f := &fakeAnalytics{resp: &analyticsv1.AggregateResponse{K: 11, DistinctValues: []int32{2, 3},
		Cells: []*analyticsv1.Cell{
			{Keys: []string{"FEMALE", "APAC"}, Suppressed: true}, {Keys: []string{"FEMALE", "EEA"}, Count: 13244},
			{Keys: []string{"MALE", "APAC"}, Suppressed: true}, {Keys: []string{"MALE", "EEA"}, Count: 42453},
			{Keys: []string{"MALE", "MENA"}, Count: 5713},
		},
		Totals: []*analyticsv1.Cell{
			{Keys: []string{"", ""}, Count: 69000}, {Keys: []string{"", "EEA"}, Count: 55697},
			{Keys: []string{"FEMALE", ""}, Count: 16560},
		}}}
	c, stdout, _ := newAnalyticsCLI(f)
	if err := c.analyticsRun(context.Background(), []string{"aggregate", "persons_returned", "--by", "sex,host_region"}); err != nil {
		t.Fatal(err)
	}
	want := `SEX     HOST_REGION  PERSONS_RETURNED    SHARE
FEMALE  APAC                        x
FEMALE  EEA                    13,244   19.19%
MALE    APAC                        x
MALE    EEA                    42,453   61.53%
MALE    MENA                    5,713    8.28%
all     all                    69,000  100.00%
all     EEA                    55,697   80.72%
FEMALE  all                    16,560   24.00%
values: sex 2, host_region 3
x: withheld, counting fewer than 11 or hiding one that does
`
	if diff := cmp.Diff(want, stdout.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}

	f.resp = &analyticsv1.AggregateResponse{Epsilon: 0.5, RemainingBudget: 9.5,
		Cells: []*analyticsv1.Cell{{Keys: []string{}, Count: 68994}}}
	c, stdout, _ = newAnalyticsCLI(f)
	if err := c.analyticsRun(context.Background(), []string{"aggregate", "persons_returned", "--epsilon", "0.5"}); err != nil {
		t.Fatal(err)
	}
	if out := stdout.String(); !strings.Contains(out, "68,994  100.00%") || !strings.Contains(out, "ε 0.5 spent, 9.5 left") {
		t.Errorf("differentially private grand total:\n%s", out)
	}
}

func TestAnalyticsExportsWriteTheirFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "returns.csv")
	c, stdout, stderr := newAnalyticsCLI(&fakeAnalytics{})
	if err := c.analyticsRun(context.Background(), []string{"export", "persons_returned", "--by", "sex", "--out", path}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(got), "sex,persons\n#gender") || stdout.Len() != 0 {
		t.Errorf("file %q (%v), stdout %q", got, err, stdout)
	}
	if !strings.Contains(stderr.String(), "withheld at k = 11") {
		t.Errorf("stderr: %s", stderr)
	}
}

// The commands against a real server running intake and analytics: cases registered with a
// consent to statistics are counted, by sex, as a table, a CSV with HXL hashtags, a
// differentially private release that spends the budget; the regions are listed.
func TestAnalyticsCommandsAgainstTheServer(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec(), analytics.Spec()}})
	service := analyticsv1.NewAnalyticsServiceClient(env.Conn)
	analyst := env.As(t, auth.RoleAnalyst, auth.MissionHQ)
	run := func(args ...string) (string, string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		c := &client{cli: cli{getenv: func(string) string { return "carried by ctx" }, stdout: &stdout, stderr: &stderr,
			now: time.Now, newRequestID: uuid.NewString},
			analytics: func(clientOptions) (analyticsv1.AnalyticsServiceClient, func(), error) {
				return service, func() {}, nil
			}}
		err := c.analyticsRun(analyst, args)
		return stdout.String(), stderr.String(), err
	}
	worker := env.As(t, auth.RoleCaseworker, "NER")
	in := intakev1.NewIntakeServiceClient(env.Conn)
	consent := func(p commonv1.ConsentPurpose) *commonv1.Consent {
		return &commonv1.Consent{Purpose: p, Granted: true, Date: &date.Date{Year: 2026, Month: 2, Day: 1}}
	}
	for i := range 14 {
		sex := commonv1.Sex_SEX_FEMALE
		if i%7 == 0 {
			sex = commonv1.Sex_SEX_MALE // two men: a count of 2, withheld
		}
		if _, err := in.RegisterCase(worker, &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(), Mission: "NER",
			Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER", RegistrationDate: &date.Date{Year: 2026, Month: 2, Day: 1},
			Principal: &commonv1.Person{GivenName: "Analyst-Test", Sex: sex, Nationality: "MLI"},
			Consents:  []*commonv1.Consent{consent(commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE), consent(commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The projector and the in-memory copy follow intake's outbox: wait for all fourteen.
	var resp analyticsv1.AggregateResponse
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, stderr, err := run("aggregate", "cases_registered", "--by", "sex", "--year", "2026", "--json")
		if err != nil {
			t.Fatalf("aggregate --json: %v\n%s", err, stderr)
		}
		if err := protojson.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.GetTotals()) == 1 && resp.GetTotals()[0].GetCount() == 14 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cases are not counted:\n%s", out)
		}
	}
	out, _, err := run("aggregate", "cases_registered", "--by", "sex", "--year", "2026")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SEX     CASES_REGISTERED    SHARE\n", "FEMALE                 x\n", "MALE                   x\n",
		"all                   14  100.00%\n", "values: sex 2\n", "fewer than 11"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	csv, summary, err := run("export", "cases_registered", "--by", "sex", "--year", "2026")
	if err != nil || !strings.Contains(csv, "#meta+method") || !strings.Contains(summary, "k = 11; released ") {
		t.Errorf("export: %v\n%s\n%s", err, csv, summary)
	}
	csv, summary, err = run("export", "cases_registered", "--by", "sex", "--epsilon", "0.25")
	if err != nil || !strings.Contains(csv, "DIFFERENTIAL_PRIVACY") || strings.Contains(csv, "#meta+suppressed") ||
		!strings.Contains(summary, "ε 0.25 spent, 9.75 left this year") {
		t.Errorf("export --epsilon: %v\n%s\n%s", err, csv, summary)
	}
	if out, _, err := run("regions"); err != nil || !strings.Contains(out, "EEA") || !strings.Contains(out, "DEU") {
		t.Errorf("regions: %v\n%s", err, out)
	}
	if out, stderr, err := run("aggregate", "cases_registered", "--epsilon", "0.5"); err != nil || !strings.Contains(out, "ε 0.5 spent") {
		t.Errorf("aggregate --epsilon: %v\n%s%s", err, out, stderr)
	}
	if out, _, err := run("budget"); err != nil || !strings.Contains(out, "ε 0.75 spent") {
		t.Errorf("budget: %v\n%s", err, out)
	}
	if _, stderr, err := run("aggregate", "cases_registered", "--by", "return_country"); err == nil ||
		!strings.Contains(stderr, "group_by[0]: RETURN_COUNTRY has no meaning for CASES_REGISTERED") {
		t.Errorf("a dimension without meaning: %v\n%s", err, stderr)
	}
}
