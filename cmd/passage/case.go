package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const caseUsage = `usage: passage case <command> [arguments]

commands:
  register --mission M --programme P --given-name G [flags]   register a case
  register --file PATH|-                                      register from a RegisterCaseRequest in protobuf JSON
  get CASE_ID [--full --purpose P]                            show a case; --full adds its people's identity
  list [--programme P] [--status S] [--from D] [--to D] [--all]   list the mission's cases, newest first
  history CASE_ID [--all]                                     what happened to a case, oldest first: who did what, when
  update CASE_ID --version N [--status S] [--host-country C] [--vulnerability V]...
  close CASE_ID --version N --reason R
  open CASE_ID --programme P [--subject ID]... [--host-country C]   a case in another programme for the same people
  assign CASE_ID STAFF_ID / unassign CASE_ID STAFF_ID          (supervisors) who works on a case
  break-glass CASE_ID --reason TEXT [--for 30m]               (supervisors) emergency access to a case's identity
  grants [--unreviewed] / review GRANT_ID --finding F         (supervisors, administrators) review break-glass grants
  erase CASE_ID --reason R [--subject ID]                     erase a person's identity for good (supervisors)
  consent CASE_ID --version N --subject ID --purpose P [--partner A|--category C] [--refused] [--basis B]
                                                              record consent (or a legal basis) for a person
  withdraw CASE_ID --version N --consent ID [--date D]        withdraw a consent record in force

Every command takes --addr (PASSAGE_ADDR, default 127.0.0.1:7070), --token (PASSAGE_TOKEN),
--insecure, --tls-ca, --tls-cert and --tls-key (mTLS), --json and --timeout. "passage case <command> -h" lists a command's flags.
`

// runCase runs `passage case <command>`: the caseworker's client of the IntakeService.
func runCase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).caseRun(ctx, args)
}

// caseRun dispatches the group's commands. Every group dispatches alike (runGroup), from a
// table of its own commands.
func (c *client) caseRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "case", caseUsage, args, c.stdout, c.stderr, commands{
		"register":    c.caseRegister,
		"get":         c.caseGet,
		"list":        c.caseList,
		"history":     c.caseHistory,
		"update":      c.caseUpdate,
		"close":       c.caseClose,
		"open":        c.caseOpen,
		"assign":      c.caseAssign,
		"unassign":    c.caseUnassign,
		"break-glass": c.caseBreakGlass,
		"grants":      c.caseGrants,
		"review":      c.caseReview,
		"erase":       c.caseErase,
		"consent":     c.caseConsent,
		"withdraw":    c.caseWithdraw,
	})
}

// Commands.

func (c *client) caseRegister(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "register", "register --mission M --programme P --given-name G [flags]\n       passage case register --file PATH|- [--request-id ID]", nil)
	var f registerFlags
	f.bind(fs, c.getenv)
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("case register takes no arguments besides flags")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	var req *intakev1.RegisterCaseRequest
	if f.file == "" {
		req, err = f.request(c.now())
	} else {
		req, err = c.caseRegisterFromFile(&f, given)
	}
	if err != nil {
		return err
	}
	if req.GetRequestId() == "" {
		req.RequestId = c.newRequestID()
	}
	c.announceRequestID(req.GetRequestId())
	return unary(ctx, c, o, "RegisterCase", req.GetRequestId(), intakev1.IntakeServiceClient.RegisterCase, req, formatRegister)
}

func (c *client) caseGet(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "get", "get CASE_ID [--full]", nil)
	full := fs.Bool("full", false, "also show the identity of every person in the case (personal data; the read is audited); needs --purpose")
	purpose := fs.String("purpose", "", "why identity is read, with --full: "+accessPurposes.list())
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case get takes one CASE_ID")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req := &intakev1.GetCaseRequest{CaseId: pos[0], View: intakev1.CaseView_CASE_VIEW_BASIC}
	if *full {
		if *purpose == "" {
			return errors.New("case get --full needs --purpose: " + accessPurposes.list())
		}
		req.View = intakev1.CaseView_CASE_VIEW_FULL
		if req.Purpose, err = parseEnum[commonv1.AccessPurpose](accessPurposes, *purpose); err != nil {
			return fmt.Errorf("--purpose: %w", err)
		}
	}
	return unary(ctx, c, o, "GetCase", "", intakev1.IntakeServiceClient.GetCase, req, formatGet)
}

func (c *client) caseList(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "list", "list [flags]", nil)
	var f listFlags
	f.bind(fs, c.getenv)
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("case list takes no arguments besides flags")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req, err := f.request()
	if err != nil {
		return err
	}
	client, done, err := c.intake(*o)
	if err != nil {
		return err
	}
	defer done()

	// For --json --all, printed as one response: every page's cases and names, the first's counts.
	all := &intakev1.ListCasesResponse{}
	rows := 0
	for {
		resp, err := call(ctx, o, client.ListCases, req)
		if err != nil {
			return c.failed("ListCases", err, "")
		}
		switch {
		case o.json && !f.all:
			return writeJSON(c.stdout, resp)
		case o.json:
			all.Cases = append(all.Cases, resp.GetCases()...)
			all.Names = append(all.Names, resp.GetNames()...)
			if all.Counts == nil {
				all.Counts = resp.GetCounts()
			}
		default:
			if resp.GetCounts() != nil {
				formatCaseCounts(c.stderr, resp.GetCounts())
			}
			names := make(map[string]*intakev1.CaseName, len(resp.GetNames()))
			for _, n := range resp.GetNames() {
				names[n.GetCaseId()] = n
			}
			for _, cs := range resp.GetCases() {
				switch {
				case rows == 0 && f.names:
					formatNamedListHeader(c.stdout)
				case rows == 0:
					formatListHeader(c.stdout)
				}
				if f.names {
					formatNamedListRow(c.stdout, cs, names[cs.GetCaseId()])
				} else {
					formatListRow(c.stdout, cs)
				}
				rows++
			}
		}
		next := resp.GetNextPageToken()
		if next == "" {
			break
		}
		if !f.all {
			fmt.Fprintf(c.stderr, "more cases: add --page-token %s (or use --all)\n", next)
			break
		}
		if next == req.GetPageToken() {
			return errors.New("ListCases returned the same page token twice; stopping")
		}
		req.PageToken = next
	}
	if o.json {
		return writeJSON(c.stdout, all)
	}
	if rows == 0 {
		fmt.Fprintln(c.stderr, "no cases")
	}
	return nil
}

func (c *client) caseUpdate(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "update", "update CASE_ID --version N [--status S] [--host-country C] [--vulnerability V]...", nil)
	var f updateFlags
	f.bind(fs)
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case update takes one CASE_ID")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req, err := f.request(pos[0], given)
	if err != nil {
		return err
	}
	if req.GetRequestId() == "" {
		req.RequestId = c.newRequestID()
	}
	c.announceRequestID(req.GetRequestId())
	return unary(ctx, c, o, "UpdateCase", req.GetRequestId(), intakev1.IntakeServiceClient.UpdateCase, req,
		func(w io.Writer, resp *intakev1.UpdateCaseResponse) error { return formatCase(w, resp.GetCase()) })
}

func (c *client) caseClose(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "close", "close CASE_ID --version N --reason R", nil)
	version := fs.Int64("version", 0, "the case version you read (passage case get); required")
	reason := fs.String("reason", "", "closure `REASON`: "+closureReasons.list())
	requestID := fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case close takes one CASE_ID")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req, err := closeRequest(pos[0], *version, *reason, *requestID)
	if err != nil {
		return err
	}
	if req.GetRequestId() == "" {
		req.RequestId = c.newRequestID()
	}
	c.announceRequestID(req.GetRequestId())
	return unary(ctx, c, o, "CloseCase", req.GetRequestId(), intakev1.IntakeServiceClient.CloseCase, req,
		func(w io.Writer, resp *intakev1.CloseCaseResponse) error { return formatCase(w, resp.GetCase()) })
}

// erase crypto-shreds one person of a case: ErasePerson.
func (c *client) caseErase(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "erase", "erase CASE_ID --reason R [--subject ID]", nil)
	reason := fs.String("reason", "", "erasure `REASON`: "+erasureReasons.list())
	subject := fs.String("subject", "", "subject `ID` of the person to erase (default: the principal applicant)")
	requestID := fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case erase takes one CASE_ID")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	r, err := parseEnum[intakev1.ErasureReason](erasureReasons, *reason)
	if err != nil {
		return fmt.Errorf("--reason %w", err)
	}
	req := &intakev1.ErasePersonRequest{RequestId: strings.TrimSpace(*requestID), CaseId: pos[0], SubjectId: strings.TrimSpace(*subject), Reason: r}
	if req.GetRequestId() == "" {
		req.RequestId = c.newRequestID()
	}
	c.announceRequestID(req.GetRequestId())
	return unary(ctx, c, o, "ErasePerson", req.GetRequestId(), intakev1.IntakeServiceClient.ErasePerson, req,
		func(w io.Writer, resp *intakev1.ErasePersonResponse) error {
			e := resp.GetErasure()
			_, err := fmt.Fprintf(w, "subject %s erased (%s) at %s\n", e.GetSubjectId(), enumName(e.GetReason()),
				e.GetEraseTime().AsTime().Format(time.RFC3339))
			return err
		})
}

func (c *client) caseOpen(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("case", "open", "open CASE_ID --programme P [--subject ID]... [--host-country C] [--vulnerability V]... [--consent PURPOSE[:PARTNER]]...", nil)
	programme := fs.String("programme", "", "the new case's `PROGRAMME`: "+programmes.list()+"; required")
	var subjects, vulns, consents stringList
	fs.Var(&subjects, "subject", "subject `ID` of a person of the source case to include, repeatable (default: everyone; the principal always)")
	host := fs.String("host-country", "", "where the migrant is now, ISO 3166-1 alpha-3 (default: the source case's)")
	fs.Var(&vulns, "vulnerability", "`VULNERABILITY`, repeatable: "+vulnerabilities.list())
	fs.Var(&consents, "consent", "consent granted today, `PURPOSE[:PARTNER]`, repeatable (default: assistance)")
	requestID := fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("case open takes one CASE_ID (the case whose people the new case is for)")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req := &intakev1.OpenCaseRequest{FromCaseId: pos[0], SubjectIds: subjects, HostCountry: *host, RequestId: *requestID}
	if req.Programme, err = parseEnum[commonv1.Programme](programmes, *programme); err != nil {
		return fmt.Errorf("--programme: %w", err)
	}
	if req.Vulnerabilities, err = parseVulnerabilities(vulns); err != nil {
		return err
	}
	if len(consents) == 0 {
		consents = stringList{enumName(commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE)}
	}
	day := civildate.FromTime(c.now())
	for i, s := range consents {
		cn, err := parseConsent(s, day)
		if err != nil {
			return fmt.Errorf("--consent #%d: %w", i+1, err)
		}
		req.Consents = append(req.Consents, cn)
	}
	if req.GetRequestId() == "" {
		req.RequestId = c.newRequestID()
	}
	c.announceRequestID(req.GetRequestId())
	return unary(ctx, c, o, "OpenCase", req.GetRequestId(), intakev1.IntakeServiceClient.OpenCase, req,
		func(w io.Writer, resp *intakev1.OpenCaseResponse) error { return formatCase(w, resp.GetCase()) })
}

// Connection and calls.

// unary connects, makes one call and prints its response: as JSON with --json, else with
// human. requestID is the call's idempotency key, empty for reads.
func unary[Req any, Resp proto.Message](ctx context.Context, c *client, o *clientOptions, method, requestID string,
	rpc func(intakev1.IntakeServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
	req Req, human func(io.Writer, Resp) error,
) error {
	return unaryOn(ctx, &c.cli, o, c.intake, method, requestID, rpc, req, human)
}

// Enum values of the case commands.

var (
	programmes      = newEnumNames(commonv1.Programme_value)
	sexes           = newEnumNames(commonv1.Sex_value)
	vulnerabilities = newEnumNames(commonv1.Vulnerability_value)
	documentTypes   = newEnumNames(commonv1.DocumentType_value)
	purposes        = newEnumNames(commonv1.ConsentPurpose_value)
	accessPurposes  = newEnumNames(commonv1.AccessPurpose_value)
	statuses        = newEnumNames(intakev1.CaseStatus_value)
	caseOrders      = newEnumNames(intakev1.CaseOrder_value)
	// UpdateCase cannot move a case back to REGISTERED, and CloseCase alone closes one.
	updateStatuses = newEnumNames(intakev1.CaseStatus_value, "registered", "closed")
	closureReasons = newEnumNames(intakev1.ClosureReason_value)
	// The retention job alone erases for an expired retention period.
	erasureReasons = newEnumNames(intakev1.ErasureReason_value, "retention_expired")
)

// Values of the case commands' flags. None of their errors quotes the value: it may be
// personal data.

// parseDocument reads TYPE:COUNTRY:NUMBER.
func parseDocument(s string) (*commonv1.IdentityDocument, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || strings.TrimSpace(parts[2]) == "" {
		return nil, errors.New("want TYPE:COUNTRY:NUMBER")
	}
	typ, err := parseEnum[commonv1.DocumentType](documentTypes, parts[0])
	if err != nil {
		return nil, fmt.Errorf("TYPE %w", err)
	}
	return &commonv1.IdentityDocument{
		Type:           typ,
		IssuingCountry: countryCode(parts[1]),
		Number:         strings.TrimSpace(parts[2]),
	}, nil
}

// parseHousehold reads GIVEN;FAMILY;DOB;SEX;NATIONALITY. Fields after GIVEN may be empty or
// left out.
func parseHousehold(s string) (*commonv1.Person, error) {
	fields := strings.Split(s, ";")
	if len(fields) > 5 {
		return nil, errors.New("want GIVEN;FAMILY;DOB;SEX;NATIONALITY (at most 5 fields)")
	}
	fields = append(fields, make([]string, 5-len(fields))...)
	p := &commonv1.Person{
		GivenName:   strings.TrimSpace(fields[0]),
		FamilyName:  strings.TrimSpace(fields[1]),
		Nationality: countryCode(fields[4]),
	}
	if p.GivenName == "" {
		return nil, errors.New("GIVEN is required (GIVEN;FAMILY;DOB;SEX;NATIONALITY)")
	}
	if dob := strings.TrimSpace(fields[2]); dob != "" {
		d, err := parseDate(dob)
		if err != nil {
			return nil, fmt.Errorf("DOB: %w", err)
		}
		p.DateOfBirth = d
	}
	if sex := strings.TrimSpace(fields[3]); sex != "" {
		v, err := parseEnum[commonv1.Sex](sexes, sex)
		if err != nil {
			return nil, fmt.Errorf("SEX %w", err)
		}
		p.Sex = v
	}
	return p, nil
}

// parseConsent reads PURPOSE[:PARTNER] as consent granted on day.
func parseConsent(s string, day *date.Date) (*commonv1.Consent, error) {
	purpose, partner, _ := strings.Cut(s, ":")
	v, err := parseEnum[commonv1.ConsentPurpose](purposes, purpose)
	if err != nil {
		return nil, fmt.Errorf("PURPOSE %w", err)
	}
	return &commonv1.Consent{
		Purpose: v,
		Granted: true,
		Date:    day,
		Partner: strings.ToUpper(strings.TrimSpace(partner)),
	}, nil
}

// parseVulnerabilities reads --vulnerability values.
func parseVulnerabilities(names []string) ([]commonv1.Vulnerability, error) {
	var out []commonv1.Vulnerability
	for _, n := range names {
		v, err := parseEnum[commonv1.Vulnerability](vulnerabilities, n)
		if err != nil {
			return nil, fmt.Errorf("--vulnerability %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Requests.

// registerFlags are the flags of `case register`.
type registerFlags struct {
	file             string
	requestID        string
	mission          string
	programme        string
	hostCountry      string
	registrationDate string
	givenName        string
	familyName       string
	dob              string
	sex              string
	nationality      string
	phone            string
	address          string
	documents        stringList
	household        stringList
	vulnerabilities  stringList
	consents         stringList
}

func (f *registerFlags) bind(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.file, "file", "", "read the whole RegisterCaseRequest as protobuf JSON from `PATH` (- for stdin) instead of the flags below")
	fs.StringVar(&f.requestID, "request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	fs.StringVar(&f.mission, "mission", getenv("PASSAGE_MISSION"), "registering `MISSION`, e.g. NER or NER-AGADEZ (env PASSAGE_MISSION); required")
	fs.StringVar(&f.programme, "programme", "", "the case's `PROGRAMME`: "+programmes.list()+"; required")
	fs.StringVar(&f.hostCountry, "host-country", "", "where the migrant is now, ISO 3166-1 alpha-3 `CODE`; required")
	fs.StringVar(&f.registrationDate, "registration-date", "", "registration `DATE` YYYY-MM-DD (default: today, UTC)")
	fs.StringVar(&f.givenName, "given-name", "", "principal applicant's given `NAME`; required")
	fs.StringVar(&f.familyName, "family-name", "", "principal applicant's family `NAME`")
	fs.StringVar(&f.dob, "dob", "", "principal applicant's date of birth `YYYY[-MM[-DD]]`")
	fs.StringVar(&f.sex, "sex", "", "principal applicant's `SEX`: "+sexes.list())
	fs.StringVar(&f.nationality, "nationality", "", "principal applicant's nationality, ISO 3166-1 alpha-3 `CODE`")
	fs.StringVar(&f.phone, "phone", "", "principal applicant's `PHONE`")
	fs.StringVar(&f.address, "address", "", "principal applicant's `ADDRESS`")
	fs.Var(&f.documents, "document", "principal applicant's identity document `TYPE:COUNTRY:NUMBER`, repeatable; TYPE: "+documentTypes.list())
	fs.Var(&f.household, "household", "a household member `GIVEN;FAMILY;DOB;SEX;NATIONALITY`, repeatable")
	fs.Var(&f.vulnerabilities, "vulnerability", "a `VULNERABILITY`, repeatable: "+vulnerabilities.list())
	fs.Var(&f.consents, "consent", "consent granted today, `PURPOSE[:PARTNER]`, repeatable (default: assistance); PURPOSE: "+purposes.list())
}

// request builds the RegisterCaseRequest the flags describe. today (UTC) dates the consents.
// The request id is left to the caller when --request-id is not given.
func (f *registerFlags) request(today time.Time) (*intakev1.RegisterCaseRequest, error) {
	if strings.TrimSpace(f.mission) == "" {
		return nil, errors.New("--mission is required (or set PASSAGE_MISSION)")
	}
	programme, err := parseEnum[commonv1.Programme](programmes, f.programme)
	if err != nil {
		return nil, fmt.Errorf("--programme %w", err)
	}
	principal := &commonv1.Person{
		GivenName:   strings.TrimSpace(f.givenName),
		FamilyName:  strings.TrimSpace(f.familyName),
		Nationality: countryCode(f.nationality),
		Phone:       strings.TrimSpace(f.phone),
		Address:     strings.TrimSpace(f.address),
	}
	if principal.GivenName == "" {
		return nil, errors.New("--given-name is required")
	}
	if f.dob != "" {
		if principal.DateOfBirth, err = parseDate(f.dob); err != nil {
			return nil, fmt.Errorf("--dob: %w", err)
		}
	}
	if f.sex != "" {
		if principal.Sex, err = parseEnum[commonv1.Sex](sexes, f.sex); err != nil {
			return nil, fmt.Errorf("--sex %w", err)
		}
	}
	for i, s := range f.documents {
		d, err := parseDocument(s)
		if err != nil {
			return nil, fmt.Errorf("--document #%d: %w", i+1, err)
		}
		principal.Documents = append(principal.Documents, d)
	}
	req := &intakev1.RegisterCaseRequest{
		RequestId:   strings.TrimSpace(f.requestID),
		Mission:     strings.ToUpper(strings.TrimSpace(f.mission)),
		Programme:   programme,
		Principal:   principal,
		HostCountry: countryCode(f.hostCountry),
	}
	for i, s := range f.household {
		p, err := parseHousehold(s)
		if err != nil {
			return nil, fmt.Errorf("--household #%d: %w", i+1, err)
		}
		req.HouseholdMembers = append(req.HouseholdMembers, p)
	}
	if req.Vulnerabilities, err = parseVulnerabilities(f.vulnerabilities); err != nil {
		return nil, err
	}
	day := civildate.FromTime(today)
	consents := f.consents
	if len(consents) == 0 {
		consents = stringList{enumName(commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE)}
	}
	for i, s := range consents {
		c, err := parseConsent(s, day)
		if err != nil {
			return nil, fmt.Errorf("--consent #%d: %w", i+1, err)
		}
		req.Consents = append(req.Consents, c)
	}
	if f.registrationDate != "" {
		if req.RegistrationDate, err = parseFullDate(f.registrationDate); err != nil {
			return nil, fmt.Errorf("--registration-date: %w", err)
		}
	}
	return req, nil
}

// flagsWithFile are the flags that may go with --file: the file holds the rest.
var flagsWithFile = []string{"addr", "token", "insecure", "json", "timeout", "file", "request-id", "mission"}

// registerFromFile reads the request of --file. --request-id replaces the file's id, and
// --mission (or PASSAGE_MISSION) fills in a mission the file leaves out.
func (c *client) caseRegisterFromFile(f *registerFlags, given map[string]bool) (*intakev1.RegisterCaseRequest, error) {
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if !slices.Contains(flagsWithFile, name) {
			return nil, fmt.Errorf("--%s cannot go with --file: the file holds the whole request", name)
		}
	}
	var b []byte
	var err error
	if f.file == "-" {
		b, err = io.ReadAll(c.stdin)
	} else {
		b, err = os.ReadFile(f.file)
	}
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	req, err := parseRegisterJSON(b)
	if err != nil {
		return nil, err
	}
	if req.GetMission() == "" {
		req.Mission = strings.ToUpper(strings.TrimSpace(f.mission))
	}
	if f.requestID != "" {
		req.RequestId = strings.TrimSpace(f.requestID)
	}
	return req, nil
}

// jsonErrorPosition finds "(line L:C)" in a protojson error.
var jsonErrorPosition = regexp.MustCompile(`\(line \d+:\d+\)`)

// parseRegisterJSON reads a RegisterCaseRequest in protobuf JSON. Its error gives only the
// position of the fault: protojson's own text can quote the value, a name or a date of birth.
func parseRegisterJSON(b []byte) (*intakev1.RegisterCaseRequest, error) {
	req := &intakev1.RegisterCaseRequest{}
	if err := protojson.Unmarshal(b, req); err != nil {
		at := ""
		if pos := jsonErrorPosition.FindString(err.Error()); pos != "" {
			at = " " + strings.Trim(pos, "()")
		}
		return nil, fmt.Errorf("--file: not a RegisterCaseRequest in protobuf JSON (fault at%s)", cmp.Or(at, " an unknown position"))
	}
	return req, nil
}

// listFlags are the flags of `case list`.
type listFlags struct {
	mission     string
	programme   string
	status      string
	hostCountry string
	from        string
	to          string
	pageSize    int
	pageToken   string
	all         bool
	// The caseload's filters, order and names.
	mine          bool
	assignee      string
	unassigned    bool
	vulnerability string
	activeAfter   string
	activeBefore  string
	sort          string
	names         bool
	purpose       string
	counts        bool
}

func (f *listFlags) bind(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.mission, "mission", getenv("PASSAGE_MISSION"), "`MISSION` to list (env PASSAGE_MISSION; default: the token's mission)")
	fs.StringVar(&f.programme, "programme", "", "only this `PROGRAMME`: "+programmes.list())
	fs.StringVar(&f.status, "status", "", "only this `STATUS`: "+statuses.list())
	fs.StringVar(&f.hostCountry, "host-country", "", "only this host country, ISO 3166-1 alpha-3 `CODE`")
	fs.StringVar(&f.from, "from", "", "registered on or after `DATE` YYYY-MM-DD")
	fs.StringVar(&f.to, "to", "", "registered on or before `DATE` YYYY-MM-DD")
	fs.IntVar(&f.pageSize, "page-size", 0, "cases per page, at most 100 (default: the server's, 25; 100 with --all)")
	fs.StringVar(&f.pageToken, "page-token", "", "continue from a previous page's `TOKEN`")
	fs.BoolVar(&f.all, "all", false, "follow the pages to the last one")
	fs.BoolVar(&f.mine, "mine", false, "only the cases I registered or am assigned to")
	fs.StringVar(&f.assignee, "assignee", "", "only the cases `STAFF_ID` registered or is assigned to (supervisors)")
	fs.BoolVar(&f.unassigned, "unassigned", false, "only the cases nobody is assigned to")
	fs.StringVar(&f.vulnerability, "vulnerability", "", "only cases with this `VULNERABILITY`: "+vulnerabilities.list())
	fs.StringVar(&f.activeAfter, "active-after", "", "last changed after `TIME` (RFC 3339, or a date)")
	fs.StringVar(&f.activeBefore, "active-before", "", "last changed before `TIME` (RFC 3339, or a date)")
	fs.StringVar(&f.sort, "sort", "", "`ORDER`: "+caseOrders.list()+" (default registered_desc)")
	fs.BoolVar(&f.names, "names", false, "show the principal's name of the cases I may read (needs --purpose; each name read is audited)")
	fs.StringVar(&f.purpose, "purpose", "", "why the names are read, with --names: "+accessPurposes.list())
	fs.BoolVar(&f.counts, "counts", false, "print how many cases match, by status and programme (a pass over every match)")
}

func (f *listFlags) request() (*intakev1.ListCasesRequest, error) {
	if f.pageSize < 0 || f.pageSize > 100 {
		return nil, errors.New("--page-size must be between 1 and 100")
	}
	req := &intakev1.ListCasesRequest{
		Mission:     strings.ToUpper(strings.TrimSpace(f.mission)),
		HostCountry: countryCode(f.hostCountry),
		PageSize:    int32(f.pageSize),
		PageToken:   f.pageToken,
		WithCounts:  f.counts,
	}
	if f.all && f.pageSize == 0 {
		// Fewer round trips on a slow link.
		req.PageSize = 100
	}
	var err error
	if f.programme != "" {
		if req.Programme, err = parseEnum[commonv1.Programme](programmes, f.programme); err != nil {
			return nil, fmt.Errorf("--programme %w", err)
		}
	}
	if f.status != "" {
		if req.Status, err = parseEnum[intakev1.CaseStatus](statuses, f.status); err != nil {
			return nil, fmt.Errorf("--status %w", err)
		}
	}
	if f.from != "" {
		if req.RegisteredFrom, err = parseFullDate(f.from); err != nil {
			return nil, fmt.Errorf("--from: %w", err)
		}
	}
	if f.to != "" {
		if req.RegisteredTo, err = parseFullDate(f.to); err != nil {
			return nil, fmt.Errorf("--to: %w", err)
		}
	}
	if err := f.caseload(req); err != nil {
		return nil, err
	}
	return req, nil
}

// caseload sets the caseload's filters, order and view of req from the flags.
func (f *listFlags) caseload(req *intakev1.ListCasesRequest) error {
	switch {
	case btoi(f.mine)+btoi(f.assignee != "")+btoi(f.unassigned) > 1:
		return errors.New("--mine, --assignee and --unassigned go one at a time")
	case f.mine:
		req.Assignee = intakev1.CaseAssignee_CASE_ASSIGNEE_ME
	case f.assignee != "":
		req.Assignee, req.AssigneeStaffId = intakev1.CaseAssignee_CASE_ASSIGNEE_STAFF, f.assignee
	case f.unassigned:
		req.Assignee = intakev1.CaseAssignee_CASE_ASSIGNEE_UNASSIGNED
	}
	var err error
	if f.vulnerability != "" {
		if req.Vulnerability, err = parseEnum[commonv1.Vulnerability](vulnerabilities, f.vulnerability); err != nil {
			return fmt.Errorf("--vulnerability %w", err)
		}
	}
	for _, t := range []struct {
		flag, value string
		to          **timestamppb.Timestamp
	}{{"--active-after", f.activeAfter, &req.ActiveAfter}, {"--active-before", f.activeBefore, &req.ActiveBefore}} {
		if t.value == "" {
			continue
		}
		at, err := parseInstant(t.flag, t.value)
		if err != nil {
			return err
		}
		*t.to = timestamppb.New(at)
	}
	if f.sort != "" {
		if req.OrderBy, err = parseEnum[intakev1.CaseOrder](caseOrders, f.sort); err != nil {
			return fmt.Errorf("--sort %w", err)
		}
	}
	switch {
	case f.names && f.purpose == "":
		return errors.New("case list --names needs --purpose: " + accessPurposes.list())
	case !f.names && f.purpose != "":
		return errors.New("--purpose goes with --names")
	case f.names:
		req.View = intakev1.CaseListView_CASE_LIST_VIEW_WITH_NAMES
		if req.Purpose, err = parseEnum[commonv1.AccessPurpose](accessPurposes, f.purpose); err != nil {
			return fmt.Errorf("--purpose: %w", err)
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// updateFlags are the flags of `case update`.
type updateFlags struct {
	version         int64
	requestID       string
	status          string
	hostCountry     string
	vulnerabilities stringList
}

// noVulnerabilities is the --vulnerability value that clears the list.
const noVulnerabilities = "none"

func (f *updateFlags) bind(fs *flag.FlagSet) {
	fs.Int64Var(&f.version, "version", 0, "the case version you read (passage case get); required")
	fs.StringVar(&f.requestID, "request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	fs.StringVar(&f.status, "status", "", "new `STATUS`: "+updateStatuses.list()+" (close with passage case close)")
	fs.StringVar(&f.hostCountry, "host-country", "", "new host country, ISO 3166-1 alpha-3 `CODE`")
	fs.Var(&f.vulnerabilities, "vulnerability", "a `VULNERABILITY`, repeatable, replacing the case's list ("+noVulnerabilities+" clears it): "+vulnerabilities.list())
}

// request builds the UpdateCaseRequest; its update_mask names the fields whose flags were
// given, so a flag left out leaves its field as it is.
func (f *updateFlags) request(caseID string, given map[string]bool) (*intakev1.UpdateCaseRequest, error) {
	if f.version <= 0 {
		return nil, errors.New("--version is required: the version you read (passage case get)")
	}
	req := &intakev1.UpdateCaseRequest{
		RequestId: strings.TrimSpace(f.requestID),
		CaseId:    caseID,
		Version:   f.version,
	}
	var paths []string
	if given["status"] {
		s, err := parseEnum[intakev1.CaseStatus](updateStatuses, f.status)
		if err != nil {
			return nil, fmt.Errorf("--status %w", err)
		}
		req.Status = s
		paths = append(paths, "status")
	}
	if given["host-country"] {
		req.HostCountry = countryCode(f.hostCountry)
		paths = append(paths, "host_country")
	}
	if given["vulnerability"] {
		names := f.vulnerabilities
		if slices.Contains(names, noVulnerabilities) {
			if len(names) > 1 {
				return nil, errors.New("--vulnerability " + noVulnerabilities + " cannot go with other vulnerabilities")
			}
			names = nil
		}
		vs, err := parseVulnerabilities(names)
		if err != nil {
			return nil, err
		}
		req.Vulnerabilities = vs
		paths = append(paths, "vulnerabilities")
	}
	if len(paths) == 0 {
		return nil, errors.New("nothing to update: give --status, --host-country or --vulnerability")
	}
	req.UpdateMask = &fieldmaskpb.FieldMask{Paths: paths}
	return req, nil
}

func closeRequest(caseID string, version int64, reason, requestID string) (*intakev1.CloseCaseRequest, error) {
	if version <= 0 {
		return nil, errors.New("--version is required: the version you read (passage case get)")
	}
	r, err := parseEnum[intakev1.ClosureReason](closureReasons, reason)
	if err != nil {
		return nil, fmt.Errorf("--reason %w", err)
	}
	return &intakev1.CloseCaseRequest{
		RequestId: strings.TrimSpace(requestID),
		CaseId:    caseID,
		Version:   version,
		Reason:    r,
	}, nil
}

// Output.

// formatCase prints a case record as aligned keys and values.
func formatCase(w io.Writer, c *intakev1.Case) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "case\t%s\n", c.GetCaseId())
	fmt.Fprintf(tw, "status\t%s   version %d\n", enumcode.Code(c.GetStatus()), c.GetVersion())
	if c.GetClosureReason() != intakev1.ClosureReason_CLOSURE_REASON_UNSPECIFIED {
		fmt.Fprintf(tw, "closed\t%s\n", enumName(c.GetClosureReason()))
	}
	fmt.Fprintf(tw, "mission\t%s   programme %s   host %s   registered %s\n", c.GetMission(),
		enumcode.Code(c.GetProgramme()), cmp.Or(c.GetHostCountry(), "-"), formatDate(c.GetRegistrationDate()))
	if from := c.GetOpenedFromCaseId(); from != "" {
		fmt.Fprintf(tw, "opened from\tcase %s\n", from)
	}
	fmt.Fprintf(tw, "principal\t%s\n", formatMember(c.GetPrincipal()))
	fmt.Fprintf(tw, "household\t%d\n", len(c.GetHouseholdMembers()))
	for _, m := range c.GetHouseholdMembers() {
		fmt.Fprintf(tw, "\t%s\n", formatMember(m))
	}
	vs := make([]string, len(c.GetVulnerabilities()))
	for i, v := range c.GetVulnerabilities() {
		vs[i] = enumName(v)
	}
	fmt.Fprintf(tw, "vulnerable\t%s\n", cmp.Or(strings.Join(vs, ", "), "-"))
	if len(c.GetConsents()) == 0 {
		fmt.Fprintf(tw, "consents\t-\n")
	}
	for i, cs := range c.GetConsents() {
		key := ""
		if i == 0 {
			key = "consents"
		}
		fmt.Fprintf(tw, "%s\t%s\n", key, formatConsent(cs))
	}
	if t := c.GetUpdateTime(); t != nil {
		fmt.Fprintf(tw, "updated\t%s\n", t.AsTime().UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	return tw.Flush()
}

// formatMember prints a person's coded attributes: "subject … female, 30-38, NGA".
func formatMember(m *intakev1.CaseMember) string {
	sex := "sex unknown"
	if s := m.GetSex(); s != commonv1.Sex_SEX_UNSPECIFIED && s != commonv1.Sex_SEX_UNKNOWN {
		sex = enumName(s)
	}
	nationality := cmp.Or(m.GetNationality(), "nationality unknown")
	return fmt.Sprintf("subject %s  %s, %s, %s", m.GetSubjectId(), sex, formatAgeBand(m.GetAgeBand()), nationality)
}

// formatAgeBand prints AGE_BAND_30_38 as "30-38" and AGE_BAND_48_PLUS as "48+".
func formatAgeBand(b commonv1.AgeBand) string {
	switch b {
	case commonv1.AgeBand_AGE_BAND_UNSPECIFIED, commonv1.AgeBand_AGE_BAND_UNKNOWN:
		return "age unknown"
	}
	s := strings.ReplaceAll(enumcode.Code(b), "_PLUS", "+")
	return strings.ReplaceAll(s, "_", "-")
}

func formatConsent(c *commonv1.Consent) string {
	s := enumName(c.GetPurpose())
	if c.GetPartner() != "" {
		s += " with " + c.GetPartner()
	}
	if cat := c.GetPartnerCategory(); cat != commonv1.PartnerCategory_PARTNER_CATEGORY_UNSPECIFIED {
		s += " with any " + enumName(cat)
	}
	switch b := c.GetLegalBasis(); {
	case b != commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED && b != commonv1.LegalBasis_LEGAL_BASIS_CONSENT:
		s += " on " + enumName(b)
	case c.GetGranted():
		s += " granted"
	default:
		s += " refused"
	}
	s += " " + formatDate(c.GetDate())
	if c.GetRecordedBy() != "" {
		s += " by " + c.GetRecordedBy()
	}
	if w := c.GetWithdrawal(); w != nil {
		s += ", withdrawn " + formatDate(w.GetDate()) + " by " + w.GetRecordedBy()
	}
	if c.GetSubjectId() != "" {
		s += "  (subject " + c.GetSubjectId()
		if c.GetConsentId() != "" {
			s += ", consent " + c.GetConsentId()
		}
		if c.GetInForce() {
			s += ", in force"
		}
		s += ")"
	}
	return s
}

// formatRegister prints the new case and any suspected duplicates.
func formatRegister(w io.Writer, resp *intakev1.RegisterCaseResponse) error {
	if err := formatCase(w, resp.GetCase()); err != nil {
		return err
	}
	for _, d := range resp.GetSuspectedDuplicates() {
		bases := make([]string, len(d.GetMatchedOn()))
		for i, b := range d.GetMatchedOn() {
			bases[i] = strings.ReplaceAll(enumName(b), "_", " ")
		}
		basis := cmp.Or(strings.Join(bases, "; "), "unknown basis")
		if d.GetDisclosure() == intakev1.DuplicateDisclosure_DUPLICATE_DISCLOSURE_REDACTED {
			// A case the caller does not work on: the server said only that it exists.
			if _, err := fmt.Fprintf(w, "suspected duplicate: a case you do not work on matched subject %s on %s; ask the mission's %s\n",
				d.GetMatchedSubjectId(), basis, d.GetAskRole()); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintf(w, "suspected duplicate: case %s (subject %s) matched subject %s on %s\n",
			d.GetCaseId(), d.GetSubjectId(), d.GetMatchedSubjectId(), basis); err != nil {
			return err
		}
	}
	return nil
}

// formatGet prints a case and, for CASE_VIEW_FULL, the identity of its people.
func formatGet(w io.Writer, resp *intakev1.GetCaseResponse) error {
	if err := formatCase(w, resp.GetCase()); err != nil {
		return err
	}
	id := resp.GetIdentity()
	if id == nil {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nidentity (personal data)\n")
	writePerson(tw, "principal", id.GetPrincipal())
	for _, m := range id.GetHouseholdMembers() {
		writePerson(tw, "member", m)
	}
	return tw.Flush()
}

func writePerson(w io.Writer, role string, pi *intakev1.PersonIdentity) {
	fmt.Fprintf(w, "%s\tsubject %s\n", role, pi.GetSubjectId())
	field := func(key, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %s\t%s\n", key, value)
		}
	}
	if e := pi.GetErasure(); e != nil {
		field("erased", fmt.Sprintf("%s, %s", enumName(e.GetReason()), e.GetEraseTime().AsTime().Format(time.DateOnly)))
		return
	}
	p := pi.GetPerson()
	field("name", strings.TrimSpace(p.GetGivenName()+" "+p.GetFamilyName()))
	field("born", formatDate(p.GetDateOfBirth()))
	if p.GetSex() != commonv1.Sex_SEX_UNSPECIFIED {
		field("sex", enumName(p.GetSex()))
	}
	field("nationality", p.GetNationality())
	for _, d := range p.GetDocuments() {
		field("document", fmt.Sprintf("%s %s %s", enumName(d.GetType()), d.GetIssuingCountry(), d.GetNumber()))
	}
	field("phone", p.GetPhone())
	field("address", p.GetAddress())
}

// The columns of `case list`; fixed widths, so pages can be printed as they arrive.
const listRowFormat = "%-36s  %-10s  %-9s  %-4s  %-10s  %9s  %7s\n"

func formatListHeader(w io.Writer) {
	fmt.Fprintf(w, listRowFormat, "CASE", "STATUS", "PROGRAMME", "HOST", "REGISTERED", "HOUSEHOLD", "VERSION")
}

// formatListRow prints one case; HOUSEHOLD counts the members besides the principal.
func formatListRow(w io.Writer, c *intakev1.Case) {
	fmt.Fprintf(w, listRowFormat, c.GetCaseId(), enumcode.Code(c.GetStatus()),
		enumcode.Code(c.GetProgramme()), cmp.Or(c.GetHostCountry(), "-"),
		formatDate(c.GetRegistrationDate()), strconv.Itoa(len(c.GetHouseholdMembers())),
		strconv.FormatInt(c.GetVersion(), 10))
}

// formatNamedListHeader and formatNamedListRow print the list with a NAME column last: the
// principal's name, or "-" where the caller may not read it (or the principal was erased).
func formatNamedListHeader(w io.Writer) {
	var b strings.Builder
	formatListHeader(&b)
	fmt.Fprintln(w, strings.TrimSuffix(b.String(), "\n")+"  NAME")
}

func formatNamedListRow(w io.Writer, c *intakev1.Case, name *intakev1.CaseName) {
	var b strings.Builder
	formatListRow(&b, c)
	full := "-"
	if name != nil {
		full = strings.TrimSpace(name.GetGivenName() + " " + name.GetFamilyName())
	}
	fmt.Fprintln(w, strings.TrimSuffix(b.String(), "\n")+"  "+full)
}

// formatCaseCounts prints the counts of every case the filters match, on one line.
func formatCaseCounts(w io.Writer, counts *intakev1.CaseCounts) {
	var parts []string
	for _, s := range counts.GetByStatus() {
		parts = append(parts, fmt.Sprintf("%s %d", enumcode.Code(s.GetStatus()), s.GetCount()))
	}
	for _, p := range counts.GetByProgramme() {
		parts = append(parts, fmt.Sprintf("%s %d", enumcode.Code(p.GetProgramme()), p.GetCount()))
	}
	line := fmt.Sprintf("%d cases match", counts.GetTotal())
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	fmt.Fprintln(w, line)
}
