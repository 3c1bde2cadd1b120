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

	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

const returnsUsage = `usage: passage returns <command> [arguments]

An AVRR return, step by step (every step takes the --version you read with get):
  get CASE_ID                                              show a return and every fact on it
  list [--status S] [--all]                                list the mission's returns, newest first
  eligibility CASE_ID --version N --decided D (--eligible | --not-eligible REASON) [--counselled D]
  step CASE_ID --version N --date D STEP [--subject ID]    a pre-departure step; STEP is one of
        --travel-document TYPE, --fit-to-travel passed|failed, --booking MODE, --medical-escort,
        --guardian, --best-interests OUTCOME, --risk LEVEL
  depart CASE_ID --version N --date D --to COUNTRY [--traveller ID]...   (default: everyone travels)
  arrive CASE_ID --version N --date D [--reception R]...
  plan CASE_ID --version N --date D [--economic T]... [--social T]... [--psychosocial T]...
  assist CASE_ID --version N --date D --type T --dimension D --provider CODE [--amount-minor N --currency C] [--subject ID]
  visit CASE_ID --version N --date D --economic X --social X --psychosocial X [--composite X] [--indicator ID=SCORE]...
  close CASE_ID --version N --reason R
  reopen CASE_ID --version N --reason R                    (supervisors)

Every command takes --addr (PASSAGE_ADDR, default 127.0.0.1:7070), --token (PASSAGE_TOKEN),
--insecure, --json and --timeout; every step takes --request-id to retry one that got no reply.
"passage returns <command> -h" lists a command's flags.
`

// runReturns runs `passage returns <command>`: the caseworker's client of the ReturnService.
func runReturns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return newClient(stdout, stderr).returnsRun(ctx, args)
}

// returnsCommand builds a command's request from its flags and makes the call.
type returnsCommand struct {
	synopsis string
	// bind defines the command's own flags; build turns them and the CASE_ID into a call.
	bind func(fs *flag.FlagSet) func(caseID string, given map[string]bool) (returnsCall, error)
}

// returnsCall is one prepared RPC.
type returnsCall struct {
	method    string
	requestID string // empty for reads
	invoke    func(context.Context, returnsv1.ReturnServiceClient) (proto.Message, error)
}

// returnsRun dispatches the group's commands. Every group dispatches alike (runGroup), from a
// table of its own commands.
func (c *client) returnsRun(ctx context.Context, args []string) error {
	cmds := commands{"list": c.returnsList}
	for name, command := range c.returnsCommands() {
		cmds[name] = func(ctx context.Context, rest []string) error { return c.returnsStep(ctx, name, command, rest) }
	}
	return runGroup(ctx, "returns", returnsUsage, args, c.stdout, c.stderr, cmds)
}

// step runs one of the commands on a case (c.returnsCommands): CASE_ID, the command's flags, one call.
func (c *client) returnsStep(ctx context.Context, cmd string, command returnsCommand, rest []string) error {
	fs, o := c.groupFlagSet("returns", cmd, command.synopsis, nil)
	build := command.bind(fs)
	pos, given, err := parseFlags(fs, rest)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("returns %s takes one CASE_ID", cmd)
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	call, err := build(pos[0], given)
	if err != nil {
		return err
	}
	if call.requestID != "" {
		fmt.Fprintf(c.stderr, "request id %s (if no reply arrives, repeat the command with --request-id %s)\n", call.requestID, call.requestID)
	}
	client, done, err := c.returns(*o)
	if err != nil {
		return err
	}
	defer done()
	callCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	resp, err := call.invoke(callCtx, client)
	if err != nil {
		return c.failed(call.method, err, call.requestID)
	}
	if o.json {
		return writeJSON(c.stdout, resp)
	}
	return formatReturnResponse(c.stdout, resp)
}

func (c *client) returnsList(ctx context.Context, args []string) error {
	fs, o := c.groupFlagSet("returns", "list", "list [--status S] [--page-size N] [--page-token T] [--all]", nil)
	status := fs.String("status", "", "only this `STATUS`: "+returnStatuses.list())
	pageSize := fs.Int("page-size", 0, "returns per page, at most 100 (default: the server's, 25)")
	pageToken := fs.String("page-token", "", "continue from a previous page's `TOKEN`")
	all := fs.Bool("all", false, "follow the pages to the last one")
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return errors.New("returns list takes no arguments besides flags")
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return err
	}
	if *pageSize < 0 || *pageSize > 100 {
		return errors.New("--page-size must be between 1 and 100")
	}
	req := &returnsv1.ListReturnsRequest{PageSize: int32(*pageSize), PageToken: *pageToken}
	if *status != "" {
		if req.Status, err = parseEnum[returnsv1.ReturnStatus](returnStatuses, *status); err != nil {
			return fmt.Errorf("--status %w", err)
		}
	}
	client, done, err := c.returns(*o)
	if err != nil {
		return err
	}
	defer done()
	var rows []*returnsv1.Return
	for {
		resp, err := call(ctx, o, client.ListReturns, req)
		if err != nil {
			return c.failed("ListReturns", err, "")
		}
		if o.json && !*all {
			return writeJSON(c.stdout, resp)
		}
		rows = append(rows, resp.GetReturns()...)
		next := resp.GetNextPageToken()
		if next == "" {
			break
		}
		if !*all {
			fmt.Fprintf(c.stderr, "more returns: add --page-token %s (or use --all)\n", next)
			break
		}
		if next == req.GetPageToken() {
			return errors.New("ListReturns returned the same page token twice; stopping")
		}
		req.PageToken = next
	}
	if o.json {
		return writeJSON(c.stdout, &returnsv1.ListReturnsResponse{Returns: rows})
	}
	if len(rows) == 0 {
		fmt.Fprintln(c.stderr, "no returns")
		return nil
	}
	const row = "%-36s  %-13s  %-4s  %7s\n"
	fmt.Fprintf(c.stdout, row, "CASE", "STATUS", "HOST", "VERSION")
	for _, r := range rows {
		fmt.Fprintf(c.stdout, row, r.GetCaseId(), enumcode.Code(r.GetStatus()), r.GetHostCountry(), strconv.FormatInt(r.GetVersion(), 10))
	}
	return nil
}

var (
	returnStatuses       = newEnumNames(returnsv1.ReturnStatus_value)
	ineligibilityReasons = newEnumNames(returnsv1.IneligibilityReason_value)
	fitResults           = newEnumNames(returnsv1.FitToTravel_value)
	travelModes          = newEnumNames(returnsv1.TravelMode_value)
	bestInterestsResults = newEnumNames(returnsv1.BestInterests_value)
	riskLevels           = newEnumNames(returnsv1.RiskLevel_value)
	receptionKinds       = newEnumNames(returnsv1.ReceptionAssistance_value)
	dimensions           = newEnumNames(returnsv1.Dimension_value)
	assistanceTypes      = newEnumNames(returnsv1.AssistanceType_value)
	returnClosures       = newEnumNames(returnsv1.ClosureReason_value)
	reopenReasons        = newEnumNames(returnsv1.ReopenReason_value)
)

// stepFlags are the flags every step takes.
type stepFlags struct {
	version   *int64
	requestID *string
}

func bindStep(fs *flag.FlagSet) stepFlags {
	return stepFlags{
		version:   fs.Int64("version", 0, "the return's version you read (passage returns get); required"),
		requestID: fs.String("request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)"),
	}
}

// prepare checks the version and returns the request id to use.
func (f stepFlags) prepare(c *client) (string, error) {
	if *f.version <= 0 {
		return "", errors.New("--version is required: the version you read (passage returns get)")
	}
	return cmp.Or(strings.TrimSpace(*f.requestID), c.newRequestID()), nil
}

// mutating prepares a step's call: the request id, then the request built by req.
func mutating[Req proto.Message, Resp proto.Message](c *client, f stepFlags, method string, req func(requestID string, version int64) (Req, error),
	rpc func(returnsv1.ReturnServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
) (returnsCall, error) {
	id, err := f.prepare(c)
	if err != nil {
		return returnsCall{}, err
	}
	r, err := req(id, *f.version)
	if err != nil {
		return returnsCall{}, err
	}
	return returnsCall{method: method, requestID: id, invoke: func(ctx context.Context, client returnsv1.ReturnServiceClient) (proto.Message, error) {
		return rpc(client, ctx, r)
	}}, nil
}

// requiredDate parses a required YYYY-MM-DD flag.
func requiredDate(name, s string) (*date.Date, error) {
	if s == "" {
		return nil, fmt.Errorf("--%s is required (YYYY-MM-DD)", name)
	}
	d, err := parseFullDate(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	return d, nil
}

func parseEnums[T ~int32](e enumNames, flagName string, names []string) ([]T, error) {
	var out []T
	for _, n := range names {
		v, err := parseEnum[T](e, n)
		if err != nil {
			return nil, fmt.Errorf("--%s %w", flagName, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseScore(name, s string) (*float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || v > 1 {
		return nil, fmt.Errorf("--%s must be a score between 0 and 1", name)
	}
	return &v, nil
}

func (c *client) returnsCommands() map[string]returnsCommand {
	return map[string]returnsCommand{
		"get": {"get CASE_ID", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			return func(caseID string, _ map[string]bool) (returnsCall, error) {
				return returnsCall{method: "GetReturn", invoke: func(ctx context.Context, client returnsv1.ReturnServiceClient) (proto.Message, error) {
					return client.GetReturn(ctx, &returnsv1.GetReturnRequest{CaseId: caseID})
				}}, nil
			}
		}},
		"eligibility": {"eligibility CASE_ID --version N --decided D (--eligible | --not-eligible REASON) [--counselled D]", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			isEligible := fs.Bool("eligible", false, "the migrant is eligible")
			notEligible := fs.String("not-eligible", "", "the migrant is not eligible, for `REASON`: "+ineligibilityReasons.list())
			decided := fs.String("decided", "", "decision `DATE` YYYY-MM-DD; required")
			counselled := fs.String("counselled", "", "counselling `DATE` YYYY-MM-DD")
			return func(caseID string, _ map[string]bool) (returnsCall, error) {
				return mutating(c, f, "RecordEligibility", func(id string, version int64) (*returnsv1.RecordEligibilityRequest, error) {
					if *isEligible == (*notEligible != "") {
						return nil, errors.New("give either --eligible or --not-eligible REASON")
					}
					d := &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE}
					var err error
					if *notEligible != "" {
						d.Eligibility = returnsv1.Eligibility_ELIGIBILITY_NOT_ELIGIBLE
						if d.IneligibilityReason, err = parseEnum[returnsv1.IneligibilityReason](ineligibilityReasons, *notEligible); err != nil {
							return nil, fmt.Errorf("--not-eligible %w", err)
						}
					}
					if d.DecisionDate, err = requiredDate("decided", *decided); err != nil {
						return nil, err
					}
					if *counselled != "" {
						if d.CounsellingDate, err = requiredDate("counselled", *counselled); err != nil {
							return nil, err
						}
					}
					return &returnsv1.RecordEligibilityRequest{RequestId: id, CaseId: caseID, Version: version, Decision: d}, nil
				}, returnsv1.ReturnServiceClient.RecordEligibility)
			}
		}},
		"step": {"step CASE_ID --version N --date D STEP [--subject ID]", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			when := fs.String("date", "", "the `DATE` the step was done, YYYY-MM-DD; required")
			subject := fs.String("subject", "", "subject `ID` of the person a travel document or fit-to-travel check is for (default: the principal)")
			document := fs.String("travel-document", "", "a travel document was obtained, of `TYPE`: "+documentTypes.list())
			fit := fs.String("fit-to-travel", "", "a fit-to-travel check, with `RESULT`: "+fitResults.list())
			booking := fs.String("booking", "", "travel was booked, by `MODE`: "+travelModes.list())
			escort := fs.Bool("medical-escort", false, "a medical escort was arranged")
			guardian := fs.Bool("guardian", false, "a guardian was appointed")
			bestInterests := fs.String("best-interests", "", "a best-interests assessment, with `OUTCOME`: "+bestInterestsResults.list())
			risk := fs.String("risk", "", "a risk assessment, at `LEVEL`: "+riskLevels.list())
			return func(caseID string, given map[string]bool) (returnsCall, error) {
				return mutating(c, f, "RecordPreDepartureStep", func(id string, version int64) (*returnsv1.RecordPreDepartureStepRequest, error) {
					n := 0
					for _, name := range []string{"travel-document", "fit-to-travel", "booking", "medical-escort", "guardian", "best-interests", "risk"} {
						if given[name] {
							n++
						}
					}
					if n != 1 {
						return nil, errors.New("give exactly one step: --travel-document, --fit-to-travel, --booking, --medical-escort, --guardian, --best-interests or --risk")
					}
					s := &returnsv1.PreDepartureStep{SubjectId: strings.TrimSpace(*subject)}
					var err error
					if s.Date, err = requiredDate("date", *when); err != nil {
						return nil, err
					}
					switch {
					case given["travel-document"]:
						v, err := parseEnum[commonv1.DocumentType](documentTypes, *document)
						if err != nil {
							return nil, fmt.Errorf("--travel-document %w", err)
						}
						s.Step = &returnsv1.PreDepartureStep_TravelDocument{TravelDocument: v}
					case given["fit-to-travel"]:
						v, err := parseEnum[returnsv1.FitToTravel](fitResults, *fit)
						if err != nil {
							return nil, fmt.Errorf("--fit-to-travel %w", err)
						}
						s.Step = &returnsv1.PreDepartureStep_FitToTravel{FitToTravel: v}
					case given["booking"]:
						v, err := parseEnum[returnsv1.TravelMode](travelModes, *booking)
						if err != nil {
							return nil, fmt.Errorf("--booking %w", err)
						}
						s.Step = &returnsv1.PreDepartureStep_Booking{Booking: v}
					case given["medical-escort"] && *escort:
						s.Step = &returnsv1.PreDepartureStep_MedicalEscort{MedicalEscort: &returnsv1.MedicalEscortArranged{}}
					case given["guardian"] && *guardian:
						s.Step = &returnsv1.PreDepartureStep_GuardianAppointed{GuardianAppointed: &returnsv1.GuardianAppointed{}}
					case given["best-interests"]:
						v, err := parseEnum[returnsv1.BestInterests](bestInterestsResults, *bestInterests)
						if err != nil {
							return nil, fmt.Errorf("--best-interests %w", err)
						}
						s.Step = &returnsv1.PreDepartureStep_BestInterestsAssessment{BestInterestsAssessment: v}
					case given["risk"]:
						v, err := parseEnum[returnsv1.RiskLevel](riskLevels, *risk)
						if err != nil {
							return nil, fmt.Errorf("--risk %w", err)
						}
						s.Step = &returnsv1.PreDepartureStep_RiskAssessment{RiskAssessment: v}
					default:
						return nil, errors.New("--medical-escort and --guardian take no false value")
					}
					return &returnsv1.RecordPreDepartureStepRequest{RequestId: id, CaseId: caseID, Version: version, Step: s}, nil
				}, returnsv1.ReturnServiceClient.RecordPreDepartureStep)
			}
		}},
		"depart": {"depart CASE_ID --version N --date D --to COUNTRY [--traveller ID]...", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			when := fs.String("date", "", "departure `DATE` YYYY-MM-DD; required")
			to := fs.String("to", "", "return country, ISO 3166-1 alpha-3 `CODE`; required")
			var travellers stringList
			fs.Var(&travellers, "traveller", "subject `ID` of a person travelling, repeatable (default: everyone in the case)")
			return func(caseID string, _ map[string]bool) (returnsCall, error) {
				return mutating(c, f, "RecordDeparture", func(id string, version int64) (*returnsv1.RecordDepartureRequest, error) {
					d, err := requiredDate("date", *when)
					if err != nil {
						return nil, err
					}
					if *to == "" {
						return nil, errors.New("--to is required: the return country")
					}
					return &returnsv1.RecordDepartureRequest{RequestId: id, CaseId: caseID, Version: version, DepartureDate: d,
						ReturnCountry: countryCode(*to), TravellingSubjectIds: travellers}, nil
				}, returnsv1.ReturnServiceClient.RecordDeparture)
			}
		}},
		"arrive": {"arrive CASE_ID --version N --date D [--reception R]...", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			when := fs.String("date", "", "arrival `DATE` YYYY-MM-DD; required")
			var reception stringList
			fs.Var(&reception, "reception", "reception assistance given, repeatable: "+receptionKinds.list())
			return func(caseID string, _ map[string]bool) (returnsCall, error) {
				return mutating(c, f, "RecordArrival", func(id string, version int64) (*returnsv1.RecordArrivalRequest, error) {
					a := &returnsv1.Arrival{}
					var err error
					if a.ArrivalDate, err = requiredDate("date", *when); err != nil {
						return nil, err
					}
					if a.ReceptionAssistance, err = parseEnums[returnsv1.ReceptionAssistance](receptionKinds, "reception", reception); err != nil {
						return nil, err
					}
					return &returnsv1.RecordArrivalRequest{RequestId: id, CaseId: caseID, Version: version, Arrival: a}, nil
				}, returnsv1.ReturnServiceClient.RecordArrival)
			}
		}},
		"plan": {"plan CASE_ID --version N --date D [--economic T]... [--social T]... [--psychosocial T]...", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			when := fs.String("date", "", "the `DATE` the plan was agreed, YYYY-MM-DD; required")
			var economic, social, psychosocial stringList
			for name, l := range map[string]*stringList{"economic": &economic, "social": &social, "psychosocial": &psychosocial} {
				fs.Var(l, name, "assistance `TYPE` planned in the "+name+" dimension, repeatable: "+assistanceTypes.list())
			}
			return func(caseID string, _ map[string]bool) (returnsCall, error) {
				return mutating(c, f, "SetReintegrationPlan", func(id string, version int64) (*returnsv1.SetReintegrationPlanRequest, error) {
					p := &returnsv1.ReintegrationPlan{}
					var err error
					if p.PlanDate, err = requiredDate("date", *when); err != nil {
						return nil, err
					}
					if p.Economic, err = parseEnums[returnsv1.AssistanceType](assistanceTypes, "economic", economic); err != nil {
						return nil, err
					}
					if p.Social, err = parseEnums[returnsv1.AssistanceType](assistanceTypes, "social", social); err != nil {
						return nil, err
					}
					if p.Psychosocial, err = parseEnums[returnsv1.AssistanceType](assistanceTypes, "psychosocial", psychosocial); err != nil {
						return nil, err
					}
					return &returnsv1.SetReintegrationPlanRequest{RequestId: id, CaseId: caseID, Version: version, Plan: p}, nil
				}, returnsv1.ReturnServiceClient.SetReintegrationPlan)
			}
		}},
		"assist": {"assist CASE_ID --version N --date D --type T --dimension D --provider CODE [--amount-minor N --currency C] [--subject ID]", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			when := fs.String("date", "", "delivery `DATE` YYYY-MM-DD; required")
			typ := fs.String("type", "", "assistance `TYPE`: "+assistanceTypes.list()+"; required")
			dimension := fs.String("dimension", "", "the plan's `DIMENSION` it serves: "+dimensions.list()+"; required")
			provider := fs.String("provider", "", "the provider's short `CODE`, e.g. IOM-IRQ; required")
			amount := fs.Int64("amount-minor", 0, "value in minor units of --currency (150000 for EUR 1,500.00)")
			currency := fs.String("currency", "", "ISO 4217 `CODE` of the value, e.g. EUR")
			subject := fs.String("subject", "", "subject `ID` of the person it went to (default: the principal)")
			return func(caseID string, given map[string]bool) (returnsCall, error) {
				return mutating(c, f, "RecordAssistance", func(id string, version int64) (*returnsv1.RecordAssistanceRequest, error) {
					a := &returnsv1.Assistance{Provider: strings.ToUpper(strings.TrimSpace(*provider)), SubjectId: strings.TrimSpace(*subject)}
					var err error
					if a.DeliveryDate, err = requiredDate("date", *when); err != nil {
						return nil, err
					}
					if a.Type, err = parseEnum[returnsv1.AssistanceType](assistanceTypes, *typ); err != nil {
						return nil, fmt.Errorf("--type %w", err)
					}
					if a.Dimension, err = parseEnum[returnsv1.Dimension](dimensions, *dimension); err != nil {
						return nil, fmt.Errorf("--dimension %w", err)
					}
					if given["amount-minor"] != given["currency"] {
						return nil, errors.New("--amount-minor and --currency go together")
					}
					if given["currency"] {
						a.Value = &returnsv1.Money{AmountMinor: *amount, CurrencyCode: strings.ToUpper(strings.TrimSpace(*currency))}
					}
					return &returnsv1.RecordAssistanceRequest{RequestId: id, CaseId: caseID, Version: version, Assistance: a}, nil
				}, returnsv1.ReturnServiceClient.RecordAssistance)
			}
		}},
		"visit": {"visit CASE_ID --version N --date D --economic X --social X --psychosocial X [--composite X] [--indicator ID=SCORE]...", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			when := fs.String("date", "", "visit `DATE` YYYY-MM-DD; required")
			scores := map[string]*string{}
			for _, name := range []string{"economic", "social", "psychosocial", "composite"} {
				scores[name] = fs.String(name, "", "RSS "+name+" `SCORE` between 0 and 1")
			}
			var indicators stringList
			fs.Var(&indicators, "indicator", "an RSS indicator answer `ID=SCORE`, repeatable")
			return func(caseID string, given map[string]bool) (returnsCall, error) {
				return mutating(c, f, "RecordMonitoringVisit", func(id string, version int64) (*returnsv1.RecordMonitoringVisitRequest, error) {
					v := &returnsv1.MonitoringVisit{}
					var err error
					if v.VisitDate, err = requiredDate("date", *when); err != nil {
						return nil, err
					}
					for name, dst := range map[string]**float64{"economic": &v.EconomicScore, "social": &v.SocialScore,
						"psychosocial": &v.PsychosocialScore, "composite": &v.CompositeScore} {
						if !given[name] {
							if name != "composite" {
								return nil, fmt.Errorf("--%s is required", name)
							}
							continue
						}
						if *dst, err = parseScore(name, *scores[name]); err != nil {
							return nil, err
						}
					}
					for i, s := range indicators {
						ind, score, ok := strings.Cut(s, "=")
						x, err := parseScore("indicator", score)
						if !ok || err != nil {
							return nil, fmt.Errorf("--indicator #%d: want ID=SCORE with a score between 0 and 1", i+1)
						}
						v.Indicators = append(v.Indicators, &returnsv1.IndicatorScore{IndicatorId: strings.ToUpper(strings.TrimSpace(ind)), Score: *x})
					}
					return &returnsv1.RecordMonitoringVisitRequest{RequestId: id, CaseId: caseID, Version: version, Visit: v}, nil
				}, returnsv1.ReturnServiceClient.RecordMonitoringVisit)
			}
		}},
		"close": {"close CASE_ID --version N --reason R", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			reason := fs.String("reason", "", "closure `REASON`: "+returnClosures.list())
			return func(caseID string, _ map[string]bool) (returnsCall, error) {
				return mutating(c, f, "CloseReturn", func(id string, version int64) (*returnsv1.CloseReturnRequest, error) {
					r, err := parseEnum[returnsv1.ClosureReason](returnClosures, *reason)
					if err != nil {
						return nil, fmt.Errorf("--reason %w", err)
					}
					return &returnsv1.CloseReturnRequest{RequestId: id, CaseId: caseID, Version: version, Reason: r}, nil
				}, returnsv1.ReturnServiceClient.CloseReturn)
			}
		}},
		"reopen": {"reopen CASE_ID --version N --reason R", func(fs *flag.FlagSet) func(string, map[string]bool) (returnsCall, error) {
			f := bindStep(fs)
			reason := fs.String("reason", "", "reopening `REASON`: "+reopenReasons.list())
			return func(caseID string, _ map[string]bool) (returnsCall, error) {
				return mutating(c, f, "ReopenReturn", func(id string, version int64) (*returnsv1.ReopenReturnRequest, error) {
					r, err := parseEnum[returnsv1.ReopenReason](reopenReasons, *reason)
					if err != nil {
						return nil, fmt.Errorf("--reason %w", err)
					}
					return &returnsv1.ReopenReturnRequest{RequestId: id, CaseId: caseID, Version: version, Reason: r}, nil
				}, returnsv1.ReturnServiceClient.ReopenReturn)
			}
		}},
	}
}

// formatReturnResponse prints the return every response carries.
func formatReturnResponse(w io.Writer, resp proto.Message) error {
	r, ok := resp.ProtoReflect().Interface().(interface{ GetReturn() *returnsv1.Return })
	if !ok {
		return writeJSON(w, resp)
	}
	return formatReturn(w, r.GetReturn())
}

// formatReturn prints a return and its facts as aligned keys and values.
func formatReturn(w io.Writer, r *returnsv1.Return) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "case\t%s\n", r.GetCaseId())
	fmt.Fprintf(tw, "status\t%s   version %d\n", enumcode.Code(r.GetStatus()), r.GetVersion())
	if r.GetClosureReason() != returnsv1.ClosureReason_CLOSURE_REASON_UNSPECIFIED {
		fmt.Fprintf(tw, "closed\t%s\n", enumName(r.GetClosureReason()))
	}
	fmt.Fprintf(tw, "mission\t%s   host %s\n", r.GetMission(), r.GetHostCountry())
	for i, m := range r.GetMembers() {
		key := ""
		if i == 0 {
			key = "people"
		}
		fmt.Fprintf(tw, "%s\tsubject %s  %s, %s, %s\n", key, m.GetSubjectId(), enumName(m.GetSex()), formatAgeBand(m.GetAgeBand()),
			cmp.Or(m.GetNationality(), "nationality unknown"))
	}
	vs := make([]string, len(r.GetVulnerabilities()))
	for i, v := range r.GetVulnerabilities() {
		vs[i] = enumName(v)
	}
	fmt.Fprintf(tw, "vulnerable\t%s\n", cmp.Or(strings.Join(vs, ", "), "-"))
	if len(r.GetUnmetRequirements()) > 0 {
		us := make([]string, len(r.GetUnmetRequirements()))
		for i, u := range r.GetUnmetRequirements() {
			us[i] = enumName(u)
		}
		fmt.Fprintf(tw, "before departure\t%s\n", strings.Join(us, ", "))
	}
	for _, d := range r.GetEligibilityDecisions() {
		s := enumName(d.GetEligibility())
		if d.GetIneligibilityReason() != returnsv1.IneligibilityReason_INELIGIBILITY_REASON_UNSPECIFIED {
			s += " (" + enumName(d.GetIneligibilityReason()) + ")"
		}
		fmt.Fprintf(tw, "eligibility\t%s %s\n", formatDate(d.GetDecisionDate()), s)
	}
	for _, s := range r.GetPreDepartureSteps() {
		fmt.Fprintf(tw, "pre-departure\t%s %s\n", formatDate(s.GetDate()), formatStep(s))
	}
	if d := r.GetDeparture(); d != nil {
		fmt.Fprintf(tw, "departed\t%s to %s, %d travelling\n", formatDate(d.GetDepartureDate()), d.GetReturnCountry(), len(d.GetTravellingSubjectIds()))
	}
	if a := r.GetArrival(); a != nil {
		rs := make([]string, len(a.GetReceptionAssistance()))
		for i, x := range a.GetReceptionAssistance() {
			rs[i] = enumName(x)
		}
		fmt.Fprintf(tw, "arrived\t%s, reception: %s\n", formatDate(a.GetArrivalDate()), cmp.Or(strings.Join(rs, ", "), "none"))
	}
	if ps := r.GetReintegrationPlans(); len(ps) > 0 {
		p := ps[len(ps)-1]
		fmt.Fprintf(tw, "plan\t%s economic: %s; social: %s; psychosocial: %s\n", formatDate(p.GetPlanDate()),
			formatTypes(p.GetEconomic()), formatTypes(p.GetSocial()), formatTypes(p.GetPsychosocial()))
	}
	for _, a := range r.GetAssistance() {
		value := ""
		if v := a.GetValue(); v != nil {
			value = fmt.Sprintf(" %s %d (minor units)", v.GetCurrencyCode(), v.GetAmountMinor())
		}
		fmt.Fprintf(tw, "assistance\t%s %s (%s) by %s%s\n", formatDate(a.GetDeliveryDate()), enumName(a.GetType()),
			enumName(a.GetDimension()), a.GetProvider(), value)
	}
	for _, v := range r.GetMonitoringVisits() {
		fmt.Fprintf(tw, "visit\t%s RSS economic %.2f, social %.2f, psychosocial %.2f, composite %.2f\n", formatDate(v.GetVisitDate()),
			v.GetEconomicScore(), v.GetSocialScore(), v.GetPsychosocialScore(), v.GetCompositeScore())
	}
	return tw.Flush()
}

func formatStep(s *returnsv1.PreDepartureStep) string {
	who := ""
	if s.GetSubjectId() != "" {
		who = " for " + s.GetSubjectId()
	}
	switch st := s.GetStep().(type) {
	case *returnsv1.PreDepartureStep_TravelDocument:
		return "travel document " + enumName(st.TravelDocument) + who
	case *returnsv1.PreDepartureStep_FitToTravel:
		return "fit to travel " + enumName(st.FitToTravel) + who
	case *returnsv1.PreDepartureStep_Booking:
		return "booked by " + enumName(st.Booking)
	case *returnsv1.PreDepartureStep_MedicalEscort:
		return "medical escort arranged"
	case *returnsv1.PreDepartureStep_GuardianAppointed:
		return "guardian appointed"
	case *returnsv1.PreDepartureStep_BestInterestsAssessment:
		return "best-interests assessment " + enumName(st.BestInterestsAssessment)
	case *returnsv1.PreDepartureStep_RiskAssessment:
		return "risk assessment " + enumName(st.RiskAssessment)
	}
	return "unknown step"
}

func formatTypes(ts []returnsv1.AssistanceType) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = enumName(t)
	}
	return cmp.Or(strings.Join(out, ", "), "-")
}
