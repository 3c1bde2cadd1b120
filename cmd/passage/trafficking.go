package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/passage-cm/passage/internal/enumcode"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

const traffickingUsage = `usage: passage trafficking <command> [arguments]

The caseworker's client of the victims of trafficking (VoT) service. A VoT case is registered
with "passage case register --programme vot"; its case id is the victim case id.

commands:
  get CASE_ID                                                   show a victim case
  list [--status S] [--all]                                     list the mission's victim cases, newest first
  screen CASE_ID --version N --status S --by AUTHORITY --date D record a screening outcome
  exploitation CASE_ID --version N --type T... --recruiter R --country C... [--means M]... [--start-year Y] [--end-year Y] [--child]
  assist CASE_ID --version N --type T --start D [--end D] --provider CODE
  end-assistance CASE_ID --version N --assistance ID --end D
  cooperation CASE_ID --version N --status S --date D          law-enforcement cooperation
  risk CASE_ID --version N --level L --date D [--factor F]...   a risk assessment
  close CASE_ID --version N --reason R

Every command takes --addr (PASSAGE_ADDR, default 127.0.0.1:7070), --token (PASSAGE_TOKEN),
--insecure, --json and --timeout; changes take --request-id to retry one that got no reply.
"passage trafficking <command> -h" lists a command's flags.
`

var (
	votStatuses        = newEnumNames(traffickingv1.VictimCaseStatus_value)
	votIdentifications = newEnumNames(traffickingv1.IdentificationStatus_value)
	votAuthorities     = newEnumNames(traffickingv1.IdentifyingAuthority_value)
	votExploitations   = newEnumNames(traffickingv1.ExploitationType_value)
	votMeans           = newEnumNames(traffickingv1.MeansOfControl_value)
	votRecruiters      = newEnumNames(traffickingv1.RecruiterRelationship_value)
	votAssistanceTypes = newEnumNames(traffickingv1.AssistanceType_value)
	votCooperations    = newEnumNames(traffickingv1.CooperationStatus_value)
	votRiskLevels      = newEnumNames(traffickingv1.RiskLevel_value)
	votRiskFactors     = newEnumNames(traffickingv1.RiskFactor_value)
	votClosureReasons  = newEnumNames(traffickingv1.ClosureReason_value)
)

// runTrafficking runs `passage trafficking <command>`: the caseworker's client of the
// TraffickingService.
func runTrafficking(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).votRun(ctx, args)
}

// votClient is the client type the commands call.
type votClient = traffickingv1.TraffickingServiceClient

// votRun dispatches the group's commands. Every group dispatches alike (runGroup), from a
// table of its own commands.
func (c *client) votRun(ctx context.Context, args []string) error {
	return runGroup(ctx, "trafficking", traffickingUsage, args, c.stdout, c.stderr, commands{
		"get":  c.votGet,
		"list": c.votList,
		"screen": func(ctx context.Context, rest []string) error {
			return votMutate(ctx, c, rest, "screen", "screen CASE_ID --version N --status S --by AUTHORITY --date D", bindScreen, votClient.RecordScreening)
		},
		"exploitation": func(ctx context.Context, rest []string) error {
			return votMutate(ctx, c, rest, "exploitation", "exploitation CASE_ID --version N --type T... --recruiter R --country C... [flags]", bindExploitation, votClient.RecordExploitation)
		},
		"assist": func(ctx context.Context, rest []string) error {
			return votMutate(ctx, c, rest, "assist", "assist CASE_ID --version N --type T --start D [--end D] --provider CODE", bindAssist, votClient.RecordAssistance)
		},
		"end-assistance": func(ctx context.Context, rest []string) error {
			return votMutate(ctx, c, rest, "end-assistance", "end-assistance CASE_ID --version N --assistance ID --end D", bindEndAssistance, votClient.EndAssistance)
		},
		"cooperation": func(ctx context.Context, rest []string) error {
			return votMutate(ctx, c, rest, "cooperation", "cooperation CASE_ID --version N --status S --date D", bindCooperation, votClient.RecordLawEnforcementCooperation)
		},
		"risk": func(ctx context.Context, rest []string) error {
			return votMutate(ctx, c, rest, "risk", "risk CASE_ID --version N --level L --date D [--factor F]...", bindRisk, votClient.AssessRisk)
		},
		"close": func(ctx context.Context, rest []string) error {
			return votMutate(ctx, c, rest, "close", "close CASE_ID --version N --reason R", bindClose, votClient.CloseVictimCase)
		},
	})
}

func (c *client) votGet(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("trafficking", "get", "get CASE_ID", nil)
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("trafficking get takes one CASE_ID")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	client, done, err := c.trafficking(*o)
	if err != nil {
		return err
	}
	defer done()
	resp, err := call(ctx, o, client.GetVictimCase, &traffickingv1.GetVictimCaseRequest{CaseId: pos[0]})
	if err != nil {
		return c.failed("GetVictimCase", err, "")
	}
	if o.json {
		return writeJSON(c.stdout, resp)
	}
	return formatVictimCase(c.stdout, resp.GetVictimCase())
}

func (c *client) votList(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("trafficking", "list", "list [--status S] [--page-size N] [--page-token T] [--all]", nil)
	statusName := fs.String("status", "", "only this `STATUS`: "+votStatuses.list())
	pageSize := fs.Int("page-size", 0, "cases per page, at most 100 (default: the server's, 25)")
	pageToken := fs.String("page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("trafficking list takes no arguments besides flags")
	}
	if *pageSize < 0 || *pageSize > 100 {
		return errors.New("--page-size must be between 1 and 100")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req := &traffickingv1.ListVictimCasesRequest{PageSize: int32(*pageSize), PageToken: *pageToken}
	if *statusName != "" {
		if req.Status, err = parseEnum[traffickingv1.VictimCaseStatus](votStatuses, *statusName); err != nil {
			return fmt.Errorf("--status %w", err)
		}
	}
	return printPages(ctx, o, c.stdout, c.stderr, c.failed, c.trafficking, "ListVictimCases", "victim cases", *all,
		votClient.ListVictimCases, req, func(t string) { req.PageToken = t },
		func(r *traffickingv1.ListVictimCasesResponse) ([]*traffickingv1.VictimCase, string) {
			return r.GetVictimCases(), r.GetNextPageToken()
		},
		func(cs []*traffickingv1.VictimCase) proto.Message {
			return &traffickingv1.ListVictimCasesResponse{VictimCases: cs}
		},
		formatVictimCases)
}

// formatVictimCases prints one victim case a line.
func formatVictimCases(w io.Writer, cases []*traffickingv1.VictimCase) error {
	const row = "%-36s  %-18s  %-4s  %-10s  %10s  %7s\n"
	fmt.Fprintf(w, row, "CASE", "STATUS", "HOST", "REGISTERED", "ASSISTANCE", "VERSION")
	for _, v := range cases {
		fmt.Fprintf(w, row, v.GetCaseId(), enumcode.Code(v.GetStatus()), cmp.Or(v.GetHostCountry(), "-"),
			formatDate(v.GetRegistrationDate()), strconv.Itoa(len(v.GetAssistance())), strconv.FormatInt(v.GetVersion(), 10))
	}
	return nil
}

// votBinder defines a mutating command's own flags on fs and returns the function that
// builds its request once they are parsed, for the case and version given.
type votBinder[Req proto.Message] func(fs *flag.FlagSet) func(caseID string, version int64, given map[string]bool) (Req, error)

// votMutate runs a mutating command: CASE_ID, --version and --request-id are common to all;
// the rest are the command's own. The request id is printed before the call so that a
// caseworker whose link drops can repeat the command and have it applied once.
func votMutate[Req proto.Message, Resp interface {
	proto.Message
	GetVictimCase() *traffickingv1.VictimCase
}](ctx context.Context, c *client, args []string, name, synopsis string, bind votBinder[Req],
	rpc func(votClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
) error {
	fs, o := c.groupFlagSet("trafficking", name, synopsis, nil)
	version := fs.Int64("version", 0, "the victim case version you read (passage trafficking get); required")
	requestID := fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	build := bind(fs)
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("trafficking %s takes one CASE_ID", name)
	}
	if *version <= 0 {
		return errors.New("--version is required: the version you read (passage trafficking get)")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	req, err := build(pos[0], *version, given)
	if err != nil {
		return err
	}
	id := cmp.Or(strings.TrimSpace(*requestID), c.newRequestID())
	m := req.ProtoReflect()
	m.Set(m.Descriptor().Fields().ByName("request_id"), protoreflect.ValueOfString(id))
	m.Set(m.Descriptor().Fields().ByName("case_id"), protoreflect.ValueOfString(pos[0]))
	m.Set(m.Descriptor().Fields().ByName("version"), protoreflect.ValueOfInt64(*version))
	c.announceRequestID(id)
	method := strings.TrimSuffix(string(proto.MessageName(req).Name()), "Request")
	return unaryOn(ctx, &c.cli, o, c.trafficking, method, id, rpc, req, func(w io.Writer, resp Resp) error {
		return formatVictimCase(w, resp.GetVictimCase())
	})
}

// votRequired returns an error naming the flag when it was not given.
func votRequired(given map[string]bool, names ...string) error {
	for _, n := range names {
		if !given[n] {
			return fmt.Errorf("--%s is required", n)
		}
	}
	return nil
}

func bindScreen(fs *flag.FlagSet) func(string, int64, map[string]bool) (*traffickingv1.RecordScreeningRequest, error) {
	status := fs.String("status", "", "screening outcome `STATUS`: "+votIdentifications.list()+"; required")
	by := fs.String("by", "", "who screened or identified, `AUTHORITY`: "+votAuthorities.list()+"; required")
	on := fs.String("date", "", "the screening `DATE` YYYY-MM-DD; required")
	return func(_ string, _ int64, given map[string]bool) (*traffickingv1.RecordScreeningRequest, error) {
		if err := votRequired(given, "status", "by", "date"); err != nil {
			return nil, err
		}
		req := &traffickingv1.RecordScreeningRequest{}
		var err error
		if req.Status, err = parseEnum[traffickingv1.IdentificationStatus](votIdentifications, *status); err != nil {
			return nil, fmt.Errorf("--status %w", err)
		}
		if req.IdentifiedBy, err = parseEnum[traffickingv1.IdentifyingAuthority](votAuthorities, *by); err != nil {
			return nil, fmt.Errorf("--by %w", err)
		}
		if req.Date, err = parseFullDate(*on); err != nil {
			return nil, fmt.Errorf("--date: %w", err)
		}
		return req, nil
	}
}

func bindExploitation(fs *flag.FlagSet) func(string, int64, map[string]bool) (*traffickingv1.RecordExploitationRequest, error) {
	var types, means, countries stringList
	fs.Var(&types, "type", "a `TYPE` of exploitation, repeatable: "+votExploitations.list()+"; at least one")
	fs.Var(&means, "means", "a `MEANS` of control, repeatable: "+votMeans.list())
	recruiter := fs.String("recruiter", "", "the recruiter's `RELATIONSHIP` to the victim: "+votRecruiters.list()+"; required")
	fs.Var(&countries, "country", "a country of exploitation, ISO 3166-1 alpha-3 `CODE`, repeatable; at least one")
	start := fs.Int("start-year", 0, "the `YEAR` the exploitation began (default: unknown)")
	end := fs.Int("end-year", 0, "the `YEAR` it ended (default: unknown or ongoing)")
	child := fs.Bool("child", false, "the person was under 18 when exploited")
	return func(_ string, _ int64, given map[string]bool) (*traffickingv1.RecordExploitationRequest, error) {
		if err := votRequired(given, "type", "recruiter", "country"); err != nil {
			return nil, err
		}
		e := &traffickingv1.Exploitation{StartYear: int32(*start), EndYear: int32(*end), ChildAtExploitation: *child}
		for _, s := range types {
			v, err := parseEnum[traffickingv1.ExploitationType](votExploitations, s)
			if err != nil {
				return nil, fmt.Errorf("--type %w", err)
			}
			e.Types = append(e.Types, v)
		}
		for _, s := range means {
			v, err := parseEnum[traffickingv1.MeansOfControl](votMeans, s)
			if err != nil {
				return nil, fmt.Errorf("--means %w", err)
			}
			e.MeansOfControl = append(e.MeansOfControl, v)
		}
		var err error
		if e.RecruiterRelationship, err = parseEnum[traffickingv1.RecruiterRelationship](votRecruiters, *recruiter); err != nil {
			return nil, fmt.Errorf("--recruiter %w", err)
		}
		for _, s := range countries {
			e.CountriesOfExploitation = append(e.CountriesOfExploitation, countryCode(s))
		}
		return &traffickingv1.RecordExploitationRequest{Exploitation: e}, nil
	}
}

func bindAssist(fs *flag.FlagSet) func(string, int64, map[string]bool) (*traffickingv1.RecordAssistanceRequest, error) {
	typ := fs.String("type", "", "assistance `TYPE`: "+votAssistanceTypes.list()+"; required")
	start := fs.String("start", "", "start `DATE` YYYY-MM-DD; required")
	end := fs.String("end", "", "end `DATE` YYYY-MM-DD (default: still going on)")
	provider := fs.String("provider", "", "the provider's short `CODE`, e.g. IOM or NGO-HOPE; required")
	return func(_ string, _ int64, given map[string]bool) (*traffickingv1.RecordAssistanceRequest, error) {
		if err := votRequired(given, "type", "start", "provider"); err != nil {
			return nil, err
		}
		req := &traffickingv1.RecordAssistanceRequest{Provider: strings.ToUpper(strings.TrimSpace(*provider))}
		var err error
		if req.Type, err = parseEnum[traffickingv1.AssistanceType](votAssistanceTypes, *typ); err != nil {
			return nil, fmt.Errorf("--type %w", err)
		}
		if req.StartDate, err = parseFullDate(*start); err != nil {
			return nil, fmt.Errorf("--start: %w", err)
		}
		if given["end"] {
			if req.EndDate, err = parseFullDate(*end); err != nil {
				return nil, fmt.Errorf("--end: %w", err)
			}
		}
		return req, nil
	}
}

func bindEndAssistance(fs *flag.FlagSet) func(string, int64, map[string]bool) (*traffickingv1.EndAssistanceRequest, error) {
	assistance := fs.String("assistance", "", "the assistance record's `ID` (passage trafficking get); required")
	end := fs.String("end", "", "end `DATE` YYYY-MM-DD; required")
	return func(_ string, _ int64, given map[string]bool) (*traffickingv1.EndAssistanceRequest, error) {
		if err := votRequired(given, "assistance", "end"); err != nil {
			return nil, err
		}
		d, err := parseFullDate(*end)
		if err != nil {
			return nil, fmt.Errorf("--end: %w", err)
		}
		return &traffickingv1.EndAssistanceRequest{AssistanceId: strings.TrimSpace(*assistance), EndDate: d}, nil
	}
}

func bindCooperation(fs *flag.FlagSet) func(string, int64, map[string]bool) (*traffickingv1.RecordLawEnforcementCooperationRequest, error) {
	status := fs.String("status", "", "cooperation `STATUS`: "+votCooperations.list()+"; required")
	on := fs.String("date", "", "`DATE` YYYY-MM-DD; required")
	return func(_ string, _ int64, given map[string]bool) (*traffickingv1.RecordLawEnforcementCooperationRequest, error) {
		if err := votRequired(given, "status", "date"); err != nil {
			return nil, err
		}
		req := &traffickingv1.RecordLawEnforcementCooperationRequest{}
		var err error
		if req.Status, err = parseEnum[traffickingv1.CooperationStatus](votCooperations, *status); err != nil {
			return nil, fmt.Errorf("--status %w", err)
		}
		if req.Date, err = parseFullDate(*on); err != nil {
			return nil, fmt.Errorf("--date: %w", err)
		}
		return req, nil
	}
}

func bindRisk(fs *flag.FlagSet) func(string, int64, map[string]bool) (*traffickingv1.AssessRiskRequest, error) {
	level := fs.String("level", "", "risk `LEVEL`: "+votRiskLevels.list()+"; required")
	on := fs.String("date", "", "assessment `DATE` YYYY-MM-DD; required")
	var factors stringList
	fs.Var(&factors, "factor", "a risk `FACTOR`, repeatable: "+votRiskFactors.list())
	return func(_ string, _ int64, given map[string]bool) (*traffickingv1.AssessRiskRequest, error) {
		if err := votRequired(given, "level", "date"); err != nil {
			return nil, err
		}
		req := &traffickingv1.AssessRiskRequest{}
		var err error
		if req.Level, err = parseEnum[traffickingv1.RiskLevel](votRiskLevels, *level); err != nil {
			return nil, fmt.Errorf("--level %w", err)
		}
		if req.Date, err = parseFullDate(*on); err != nil {
			return nil, fmt.Errorf("--date: %w", err)
		}
		for _, s := range factors {
			f, err := parseEnum[traffickingv1.RiskFactor](votRiskFactors, s)
			if err != nil {
				return nil, fmt.Errorf("--factor %w", err)
			}
			req.Factors = append(req.Factors, f)
		}
		return req, nil
	}
}

func bindClose(fs *flag.FlagSet) func(string, int64, map[string]bool) (*traffickingv1.CloseVictimCaseRequest, error) {
	reason := fs.String("reason", "", "closure `REASON`: "+votClosureReasons.list()+"; required")
	return func(_ string, _ int64, given map[string]bool) (*traffickingv1.CloseVictimCaseRequest, error) {
		if err := votRequired(given, "reason"); err != nil {
			return nil, err
		}
		r, err := parseEnum[traffickingv1.ClosureReason](votClosureReasons, *reason)
		if err != nil {
			return nil, fmt.Errorf("--reason %w", err)
		}
		return &traffickingv1.CloseVictimCaseRequest{Reason: r}, nil
	}
}

// formatVictimCase prints a victim case as aligned keys and values.
func formatVictimCase(w io.Writer, v *traffickingv1.VictimCase) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "victim case\t%s\n", v.GetCaseId())
	fmt.Fprintf(tw, "status\t%s   version %d\n", enumcode.Code(v.GetStatus()), v.GetVersion())
	if v.GetClosureReason() != traffickingv1.ClosureReason_CLOSURE_REASON_UNSPECIFIED {
		fmt.Fprintf(tw, "closed\t%s\n", enumName(v.GetClosureReason()))
	}
	fmt.Fprintf(tw, "mission\t%s   host %s   registered %s   intake case %s\n", v.GetMission(), cmp.Or(v.GetHostCountry(), "-"),
		formatDate(v.GetRegistrationDate()), enumName(v.GetIntakeStatus()))
	fmt.Fprintf(tw, "principal\t%s\n", formatMember(v.GetPrincipal()))
	fmt.Fprintf(tw, "household\t%d\n", len(v.GetHouseholdMembers()))
	if id := v.GetIdentification(); id != nil {
		fmt.Fprintf(tw, "screening\t%s by %s on %s\n", enumName(id.GetStatus()),
			enumName(id.GetIdentifiedBy()), formatDate(id.GetDate()))
	}
	if e := v.GetExploitation(); e != nil {
		fmt.Fprintf(tw, "exploitation\t%s in %s, %s-%s%s\n", votJoinEnums(e.GetTypes()),
			strings.Join(e.GetCountriesOfExploitation(), ", "), votFormatYear(e.GetStartYear()), votFormatYear(e.GetEndYear()),
			votChildNote(e.GetChildAtExploitation()))
		fmt.Fprintf(tw, "means of control\t%s\n", cmp.Or(votJoinEnums(e.GetMeansOfControl()), "-"))
		fmt.Fprintf(tw, "recruiter\t%s\n", enumName(e.GetRecruiterRelationship()))
	}
	for i, a := range v.GetAssistance() {
		key := ""
		if i == 0 {
			key = "assistance"
		}
		fmt.Fprintf(tw, "%s\t%s by %s from %s to %s  (%s)\n", key, enumName(a.GetType()), a.GetProvider(),
			formatDate(a.GetStartDate()), cmp.Or(formatDate(a.GetEndDate()), "ongoing"), a.GetAssistanceId())
	}
	if lc := v.GetLawEnforcementCooperation(); lc != nil {
		fmt.Fprintf(tw, "cooperation\t%s on %s\n", enumName(lc.GetStatus()), formatDate(lc.GetDate()))
	}
	if r := v.GetRiskAssessment(); r != nil {
		fmt.Fprintf(tw, "risk\t%s on %s: %s\n", enumName(r.GetLevel()), formatDate(r.GetDate()),
			cmp.Or(votJoinEnums(r.GetFactors()), "no factors"))
	}
	if len(v.GetLinkedCaseIds()) > 0 {
		fmt.Fprintf(tw, "linked cases\t%s\n", strings.Join(v.GetLinkedCaseIds(), ", "))
	}
	return tw.Flush()
}

func votJoinEnums[T enumcode.Enum](vs []T) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = enumName(v)
	}
	return strings.Join(names, ", ")
}

func votFormatYear(y int32) string {
	if y == 0 {
		return "?"
	}
	return strconv.Itoa(int(y))
}

func votChildNote(child bool) string {
	if child {
		return ", as a child"
	}
	return ""
}
