package docs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Binding is a placeholder the docs write for an id an earlier command printed, and where in
// that output it is read.
type Binding struct {
	// Placeholder is the word in the docs, e.g. CASE_ID.
	Placeholder string
	// From matches the id in a command's output; its first group is the id. The last match
	// of the latest output that has one binds the placeholder.
	From *regexp.Regexp
	// What says which command prints it, for the message when nothing has.
	What string
	// PerCaller binds the placeholder separately for each caller (each dev-token the
	// commands run with), so that a case id printed to one mission's caseworker is not
	// handed to another's.
	PerCaller bool
}

const uuidPattern = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// Bindings are every placeholder the docs may use, and the output that binds each.
var Bindings = []Binding{
	{"CASE_ID", regexp.MustCompile(`(?m)^case\s+(` + uuidPattern + `)`), "the case id `passage case register` or `case get` prints (\"case <id>\")", true},
	{"SUBJECT_ID", regexp.MustCompile(`(?m)^principal\s+subject (` + uuidPattern + `)`), "the principal's subject id `passage case register` or `case get` prints", true},
	{"CONSENT_ID", regexp.MustCompile(`consent (` + uuidPattern + `)`), "a consent id `passage case get` or `case consent` prints", true},
	{"REFERRAL_ID", regexp.MustCompile(`(?m)^referral\s+(` + uuidPattern + `)`), "the referral id `passage referral create` or `referral get` prints", true},
	// A hand-over is between two missions: the id the sender's proposal printed is the one the
	// receiver answers, so it is bound for every caller.
	{"HANDOVER_ID", regexp.MustCompile(`(?m)^handover\s+(` + uuidPattern + `)`), "the hand-over id `passage handover propose` or `handover get` prints", false},
	{"VERSION", regexp.MustCompile(`(?m)^status\s.*\bversion (\d+)`), "the version of the record the last `get` or change printed (\"status ACTIVE   version 3\")", true},
	{"PARTNER_ID", regexp.MustCompile(`(?m)(?:"partnerId":\s*"|^)(` + uuidPattern + `)`), "the partner id RegisterPartner returns or `passage referral partners` lists", false},
}

// Assigned are the variables the docs set to "..." with a comment saying what it printed
// (`ID=...   # the case id it printed`): each takes the placeholder's value.
var Assigned = map[string]string{"ID": "CASE_ID"}

// Substitutions are the command substitutions $(…) the docs use other than passage's own,
// and what the test puts in their place.
var Substitutions = map[string]func() string{
	"date -u +%F": func() string { return time.Now().UTC().Format(time.DateOnly) },
	"uuidgen":     uuid.NewString,
}

// Unrun are the kinds of command a Session does not run, and why; the tests of this package
// check what they name instead.
var Unrun = map[Kind]string{
	Make:  "make builds, lints or starts servers of its own; TestMakeTargets checks the target exists",
	Curl:  "calls the partner gateway from a partner's own systems with ids from its own feed; TestCurlPaths checks the path and verb are a route of the gateway",
	Other: "not Passage's (go, psql, docker, …)",
}

// NotRun is a passage command the session checks without running it, and why.
type NotRun struct {
	// Args are the command's first arguments ("demo", "seed").
	Args []string
	// Unless are flags that make the command one to run after all ("--plan").
	Unless []string
	// Reason says why it is not run.
	Reason string
}

// Session runs the docs' commands in order against one server, as a reader who types them
// one after another would: the variables they set and the ids they print carry from one
// command to the next. Each must exit 0, or fail where the doc says so (Command.Fails). Passage commands are run (synopses are checked: the command exists
// and takes the flags named); grpcurl calls are made when GRPC is set; make, curl and other
// commands are left to the structural tests of this package.
type Session struct {
	// Passage runs the CLI through its real entry point and returns its exit status.
	Passage func(args []string, stdout, stderr io.Writer) int
	// Setenv sets a variable of the CLI's environment.
	Setenv func(name, value string)
	// GRPC makes a unary call of the method ("package.Service/Method") with a JSON request
	// and the given metadata, and returns the JSON response; nil leaves grpcurl lines unrun.
	GRPC func(method string, header []string, request string) (string, error)
	// Fixed are the environment variables the test sets (the server's address, its
	// database) that the docs' assignments leave alone.
	Fixed []string
	// NotRun are the passage commands checked as synopses instead of run.
	NotRun []NotRun
	// KnownFailures are commands, by their text, that the docs show wrongly today, each
	// with what is wrong: they are run, their failure is logged, and their success is an
	// error (the entry is then stale).
	KnownFailures map[string]string

	vars    map[string]string
	callers map[string]string // dev-token output → the dev-token's arguments
	facts   map[string]string // caller + "\x00" + placeholder → value
	t       testing.TB
	at      Command
	seen    map[string]bool // known failures met
	ran     int             // commands run
	checked int             // synopses checked
}

// Run runs the blocks in order. Within a block, the first command that fails ends it.
func (s *Session) Run(t testing.TB, blocks []Block) {
	t.Helper()
	s.t = t
	s.init()
	for _, b := range blocks {
		for i, c := range b.Commands {
			if s.run(c) {
				continue
			}
			// The block ends here: what follows may rest on what failed. Its passage
			// commands are still checked as synopses.
			for _, rest := range b.Commands[i+1:] {
				if rest.Kind == Passage {
					t.Logf("%s: not reached; checked as a synopsis", rest.Where())
					s.checkSynopsis(rest)
				}
			}
			break
		}
	}
}

func (s *Session) init() {
	if s.vars == nil {
		s.vars, s.callers, s.facts, s.seen = map[string]string{}, map[string]string{}, map[string]string{}, map[string]bool{}
	}
}

// Done ends the session: it fails if no command was run (the docs were not read) or if a
// known failure was met nowhere (the doc was mended or moved: the entry goes too).
func (s *Session) Done(t testing.TB) {
	t.Helper()
	s.init()
	t.Logf("%d commands run, %d synopses checked", s.ran, s.checked)
	if s.ran == 0 {
		t.Error("no documented command was run: are the docs read?")
	}
	for _, text := range slices.Sorted(maps.Keys(s.KnownFailures)) {
		if !s.seen[text] {
			t.Errorf("known failure %q (%s) is shown by no doc: remove it from the list", text, s.KnownFailures[text])
		}
	}
}

// run runs one command line and reports whether the block goes on.
func (s *Session) run(c Command) bool {
	t := s.t
	t.Helper()
	s.at = c
	switch {
	case c.Synopsis && c.Kind == Passage:
		s.checkSynopsis(c)
		return true
	case c.Kind == GRPCurl && s.GRPC == nil:
		t.Logf("%s: not run: no GRPC to call", c.Where())
		return true
	case Unrun[c.Kind] != "":
		t.Logf("%s: not run (%s): %s", c.Where(), c.Kind, Unrun[c.Kind])
		return true
	}
	stmts, err := Split(c.Text, s)
	if errors.Is(err, errForeign) {
		t.Logf("%s: not run (%s): %v", c.Where(), Other, err)
		return true
	}
	if errors.Is(err, errReported) {
		return false
	}
	if err != nil {
		return s.fail(c, err.Error())
	}
	for _, p := range stmts {
		words := p[0]
		if len(p) > 1 {
			t.Logf("%s: not run: the filter after | (%s)", c.Where(), strings.Join(p[1], " "))
		}
		switch kind := classify(strings.Join(words, " ")); kind {
		case Assign:
			if err := s.assign(words); err != nil {
				return s.fail(c, err.Error())
			}
		case Passage:
			if reason := s.notRun(words[1:]); reason != "" {
				t.Logf("%s: not run (%s); checked as a synopsis", c.Where(), reason)
				s.checkSynopsis(c)
				continue
			}
			args, ok := s.bind(words[1:])
			if !ok {
				return false // bind reported it
			}
			out, errOut, code := s.passage(args)
			s.ran++
			detail := fmt.Sprintf("exit %d\n%s", code, errOut)
			if c.Fails {
				detail = "the doc says it fails, but it exits 0"
			}
			if ok := s.outcome(c, (code == 0) != c.Fails, detail); !ok {
				return false
			}
			s.learn(out)
		case GRPCurl:
			if s.GRPC == nil {
				continue
			}
			out, err := s.grpcurl(words[1:])
			s.ran++
			if ok := s.outcome(c, err == nil, fmt.Sprint(err)); !ok {
				return false
			}
			s.learn(out)
		default:
			t.Logf("%s: not run (%s): %s", c.Where(), kind, Unrun[kind])
		}
	}
	return true
}

// outcome reports a command's result against the known failures and says whether the block
// goes on.
func (s *Session) outcome(c Command, ok bool, detail string) bool {
	s.t.Helper()
	reason, known := s.KnownFailures[c.Text]
	if known {
		s.seen[c.Text] = true
	}
	switch {
	case known && ok:
		s.t.Errorf("%s: listed as a known failure (%s) but works: remove it from the list", c, reason)
	case known:
		s.t.Logf("%s: known failure (%s):\n%s", c, reason, detail)
		return false
	case !ok:
		return s.fail(c, detail)
	}
	return true
}

func (s *Session) fail(c Command, detail string) bool {
	s.t.Helper()
	s.t.Errorf("%s\n%s", c, strings.TrimSpace(detail))
	return false
}

func (s *Session) passage(args []string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = s.Passage(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// errForeign is a command substitution of a command neither passage nor in Substitutions: a
// line that sets a variable from it is another tool's (a developer's Postgres, …).
var errForeign = errors.New("a variable set from another tool's output")

// errReported is an error the session has reported already.
var errReported = errors.New("reported")

// Var returns a shell variable an earlier command set.
func (s *Session) Var(name string) (string, error) {
	if v, ok := s.vars[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("$%s is set by no earlier command", name)
}

// Subst runs a command substitution: passage's own, or one of Substitutions.
func (s *Session) Subst(command string) (string, error) {
	if f, ok := Substitutions[command]; ok {
		return f(), nil
	}
	words := strings.Fields(command)
	if len(words) == 0 || classify(command) != Passage {
		return "", fmt.Errorf("%w: $(%s)", errForeign, command)
	}
	args, ok := s.bind(words[1:])
	if !ok {
		return "", errReported
	}
	out, errOut, code := s.passage(args)
	if code != 0 {
		return "", fmt.Errorf("$(%s): exit %d\n%s", command, code, errOut)
	}
	out = strings.TrimSpace(out)
	if words[1] == "dev-token" {
		s.callers[out] = strings.Join(args[1:], " ")
	}
	return out, nil
}

func (s *Session) assign(words []string) error {
	if words[0] == "export" {
		words = words[1:]
	}
	for _, w := range words {
		name, value, ok := strings.Cut(w, "=")
		if !ok {
			return fmt.Errorf("%q is not an assignment", w)
		}
		if value == "..." {
			placeholder, ok := Assigned[name]
			if !ok {
				return fmt.Errorf("%s=... : add what it takes to docs.Assigned", name)
			}
			if value = s.fact(placeholder); value == "" {
				return fmt.Errorf("%s=... : %s", name, s.unbound(placeholder))
			}
		}
		if slices.Contains(s.Fixed, name) {
			s.t.Logf("%s: %s stays the test's own", s.at.Where(), name)
			continue
		}
		s.vars[name] = value
		s.Setenv(name, value)
	}
	return nil
}

// caller names who the commands run as now: the dev-token arguments of PASSAGE_TOKEN.
func (s *Session) caller() string { return s.callers[s.vars["PASSAGE_TOKEN"]] }

func (s *Session) binding(placeholder string) (Binding, bool) {
	i := slices.IndexFunc(Bindings, func(b Binding) bool { return b.Placeholder == placeholder })
	if i < 0 {
		return Binding{}, false
	}
	return Bindings[i], true
}

func (s *Session) key(b Binding) string {
	if b.PerCaller {
		return s.caller() + "\x00" + b.Placeholder
	}
	return b.Placeholder
}

func (s *Session) fact(placeholder string) string {
	b, _ := s.binding(placeholder)
	return s.facts[s.key(b)]
}

func (s *Session) unbound(placeholder string) string {
	b, _ := s.binding(placeholder)
	who := ""
	if b.PerCaller {
		who = fmt.Sprintf(" to this caller (dev-token %s)", s.caller())
	}
	return fmt.Sprintf("%s is not bound: no earlier command printed %s%s", placeholder, b.What, who)
}

// bind replaces the placeholders among args with their values; false if one is not bound,
// which it reports.
func (s *Session) bind(args []string) ([]string, bool) {
	out := slices.Clone(args)
	ok := true
	for i, a := range out {
		if _, isPlaceholder := s.binding(a); !isPlaceholder {
			continue
		}
		if out[i] = s.fact(a); out[i] == "" {
			s.t.Errorf("%s\n%s", s.at, s.unbound(a))
			ok = false
		}
	}
	return out, ok
}

// learn binds the placeholders whose ids an output prints.
func (s *Session) learn(out string) {
	for _, b := range Bindings {
		if m := b.From.FindAllStringSubmatch(out, -1); m != nil {
			s.facts[s.key(b)] = m[len(m)-1][1]
		}
	}
}

func (s *Session) notRun(args []string) string {
	for _, n := range s.NotRun {
		if len(args) >= len(n.Args) && slices.Equal(args[:len(n.Args)], n.Args) &&
			!slices.ContainsFunc(n.Unless, func(f string) bool { return slices.Contains(args, f) }) {
			return n.Reason
		}
	}
	return ""
}

// grpcurl makes the call of a grpcurl command line through GRPC.
func (s *Session) grpcurl(words []string) (string, error) {
	call, err := ParseGRPCurl(words)
	if err != nil || call.Method == "list" {
		return "", err // listing the services calls nothing; TestGRPCurlMethods checks the names
	}
	return s.GRPC(call.Method, call.Header, call.Request)
}
