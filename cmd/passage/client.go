package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/retrypolicy"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// The client toolkit every command group shares: the common flags, the connection (TLS or
// not, the token), the call with its retries, paging, and how a command group dispatches.

const defaultAddr = "127.0.0.1:7070"

// cli is what every command group takes from outside: the environment, the terminal's
// streams, the clock and the request ids, so that tests can supply their own. A group's type
// embeds it and adds the client of the service it calls; the helpers below take a *cli.
type cli struct {
	getenv       func(string) string
	stdin        io.Reader
	stdout       io.Writer
	stderr       io.Writer
	now          func() time.Time
	newRequestID func() string
}

// newCLI returns the process's own: its environment, standard input, the clock, random
// request ids, and the given output streams.
func newCLI(stdout, stderr io.Writer) cli {
	return cli{getenv: os.Getenv, stdin: os.Stdin, stdout: stdout, stderr: stderr, now: time.Now, newRequestID: uuid.NewString}
}

// client is every command group's type (case, returns, trafficking, hasm, referral,
// followup, handover, analytics, note, document, staff): cli, and how to reach each service, so that a test can
// supply its own client of any of them. Each group's commands are its methods, named after the group (caseGet,
// hasmGet); a group's Run method dispatches them.
type client struct {
	cli
	intake      func(clientOptions) (intakev1.IntakeServiceClient, func(), error)
	returns     func(clientOptions) (returnsv1.ReturnServiceClient, func(), error)
	trafficking func(clientOptions) (traffickingv1.TraffickingServiceClient, func(), error)
	hasm        func(clientOptions) (hasmv1.StrandedMigrantServiceClient, func(), error)
	referral    func(clientOptions) (referralv1.ReferralServiceClient, func(), error)
	followup    func(clientOptions) (followupv1.FollowUpServiceClient, func(), error)
	handover    func(clientOptions) (handoverv1.HandoverServiceClient, func(), error)
	analytics   func(clientOptions) (analyticsv1.AnalyticsServiceClient, func(), error)
	casenote    func(clientOptions) (casenotev1.CaseNoteServiceClient, func(), error)
	document    func(clientOptions) (documentv1.DocumentServiceClient, func(), error)
	staff       func(clientOptions) (staffv1.StaffServiceClient, func(), error)
}

// newClient returns the process's client: newCLI's, reaching every service over [dial].
func newClient(stdout, stderr io.Writer) *client {
	return &client{
		cli:         newCLI(stdout, stderr),
		intake:      dialer(intakev1.NewIntakeServiceClient),
		returns:     dialer(returnsv1.NewReturnServiceClient),
		trafficking: dialer(traffickingv1.NewTraffickingServiceClient),
		hasm:        dialer(hasmv1.NewStrandedMigrantServiceClient),
		referral:    dialer(referralv1.NewReferralServiceClient),
		followup:    dialer(followupv1.NewFollowUpServiceClient),
		handover:    dialer(handoverv1.NewHandoverServiceClient),
		analytics:   dialer(analyticsv1.NewAnalyticsServiceClient),
		casenote:    dialer(casenotev1.NewCaseNoteServiceClient),
		document:    dialer(documentv1.NewDocumentServiceClient),
		staff:       dialer(staffv1.NewStaffServiceClient),
	}
}

// dialer returns what connects a service's client (made by newServiceClient) and closes its
// connection. Dialling connects lazily, so an unreachable server shows up as UNAVAILABLE on
// the first call.
func dialer[C any](newServiceClient func(grpc.ClientConnInterface) C) func(clientOptions) (C, func(), error) {
	return func(o clientOptions) (C, func(), error) {
		conn, err := dial(o)
		if err != nil {
			var none C
			return none, nil, err
		}
		return newServiceClient(conn), func() { _ = conn.Close() }, nil
	}
}

var errNoToken = errors.New("no token: pass --token or set PASSAGE_TOKEN (e.g. PASSAGE_TOKEN=$(passage dev-token --role caseworker --mission NER))")

// announceRequestID prints the request id before the call, so that a caseworker whose link
// drops before the reply can repeat the command and be sure it is applied once.
func (c *cli) announceRequestID(id string) {
	fmt.Fprintf(c.stderr, "request id %s (if no reply arrives, repeat the command with --request-id %s)\n", id, id)
}

// commands maps a command group's command names to what runs them.
type commands map[string]func(ctx context.Context, args []string) error

// runGroup runs `passage <group> <command> [arguments]` from args: without a command, the
// group's usage on stderr and errUsage; help, -h or --help, the usage on stdout; an unknown
// command, a usageError naming it.
func runGroup(ctx context.Context, group, usage string, args []string, stdout, stderr io.Writer, cmds commands) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd := args[0]
	if isHelp(cmd) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	run, ok := cmds[cmd]
	if !ok {
		return &usageError{command: group, err: fmt.Errorf("unknown command %q", cmd)}
	}
	return run(ctx, args[1:])
}

// clientOptions are the flags every case command takes.
type clientOptions struct {
	addr    string
	token   string
	json    bool
	timeout time.Duration
	// stderr is where a call that keeps being retried says so (nil: nowhere).
	stderr io.Writer
	// tls is the transport: the CA that verifies the server and the client certificate for
	// mTLS, or no TLS (--insecure).
	tls mtls.ClientFlags
}

// newFlagSet returns the flag set of `passage <group> <name>`, with the flags every client
// command takes (server, token, TLS, output, deadline), writing its usage to stderr.
func newFlagSet(group, name, synopsis string, stderr io.Writer, getenv func(string) string) (*flag.FlagSet, *clientOptions) {
	fs := flag.NewFlagSet(group+" "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: passage %s %s\n\nflags:\n", group, synopsis)
		fs.PrintDefaults()
	}
	o := &clientOptions{stderr: stderr}
	fs.StringVar(&o.addr, "addr", cmp.Or(getenv("PASSAGE_ADDR"), defaultAddr), "server `host:port` (env PASSAGE_ADDR)")
	// The token's default stays empty so that -h never prints it; resolve reads the environment.
	fs.StringVar(&o.token, "token", "", "bearer `TOKEN` (default: env PASSAGE_TOKEN)")
	o.tls.Register(fs, getenv, "addr")
	fs.BoolVar(&o.json, "json", false, "print the response as protobuf JSON")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "deadline of each call, retries included")
	return fs, o
}

// dial connects to the server with the options' transport and token. Its calls have no
// retry policy of gRPC's own (retrypolicy.DialOption): call retries them (retrypolicy.Do),
// and says so at once, where gRPC's retries would hold the first failure back three seconds.
func dial(o clientOptions) (*grpc.ClientConn, error) {
	creds, err := o.tls.Credentials()
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(o.addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(auth.BearerCredentials(o.token, !o.tls.Plaintext)))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", o.addr, err)
	}
	return conn, nil
}

// resolve completes the options once the flags are parsed. Plaintext is the default only
// for a loopback address, where no network can read the token.
func (o *clientOptions) resolve(given map[string]bool, getenv func(string) string) error {
	o.token = strings.TrimSpace(cmp.Or(o.token, getenv("PASSAGE_TOKEN")))
	if o.token == "" {
		return errNoToken
	}
	o.tls.Resolve(o.addr, given["insecure"])
	if o.timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	return nil
}

// call runs one RPC under the --timeout, retrying it as it is while the server answers
// UNAVAILABLE or ABORTED (retrypolicy.Do): the same request, so the same request id, which
// makes a mutation's retry return its first result. The first retry is announced on stderr at
// once, so that an unreachable server or database is said so, not silently waited for. When
// no attempt ever reached the server, the call's error says that (errUnreached), not that the
// deadline passed: the server cannot have applied anything.
func call[Req, Resp any](ctx context.Context, o *clientOptions, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	var resp Resp
	err := retried(ctx, o, func(ctx context.Context) error {
		var err error
		resp, err = rpc(ctx, req)
		return err
	})
	return resp, err
}

// retried runs attempt, one RPC's whole exchange (a stream's too), as call runs a unary RPC:
// under the --timeout, again while the server answers UNAVAILABLE or ABORTED, the first retry
// announced at once. Each attempt must be the same request, its request id included.
func retried(ctx context.Context, o *clientOptions, attempt func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var unreached error // the last attempt's error while no attempt has reached the server
	reached := false
	err := retrypolicy.Do(ctx, func(ctx context.Context) error {
		err := attempt(ctx)
		if detail, ok := dialFailure(err); ok {
			unreached = errUnreached(o.addr, detail)
		} else {
			reached = true // or may have: a deadline that ends a call in flight says nothing
		}
		return err
	}, retrypolicy.OnRetry(func(attempt int, err error, _ time.Duration) {
		if attempt == 1 && o.stderr != nil {
			st := status.Convert(err)
			if unreached != nil && !reached {
				st = status.Convert(unreached)
			}
			fmt.Fprintf(o.stderr, "%s: %s\nretrying until the --timeout of %s ends (interrupt to stop)\n", st.Code(), st.Message(), o.timeout)
		}
	}))
	if err != nil && unreached != nil && !reached {
		return unreached
	}
	return err
}

// dialFailure returns what the gRPC client says when it could not connect to the server at
// all ("dial tcp 10.0.0.7:7070: connect: connection refused"): such a call was never sent.
func dialFailure(err error) (string, bool) {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unavailable || len(st.Details()) > 0 {
		return "", false
	}
	_, detail, ok := strings.Cut(st.Message(), "Error while dialing: ")
	return strings.TrimSuffix(detail, `"`), ok
}

// errUnreached is the error of a call that never reached the server at addr: UNAVAILABLE,
// saying that nothing can have been applied (ErrorInfo may_have_applied "false").
func errUnreached(addr, detail string) error {
	st, err := status.New(codes.Unavailable, fmt.Sprintf("cannot reach the server at %s (%s)", addr, detail)).
		WithDetails(&errdetails.ErrorInfo{Reason: "SERVER_UNREACHABLE", Domain: "passage.cli",
			Metadata: map[string]string{"may_have_applied": "false"}})
	if err != nil {
		return status.Error(codes.Unavailable, fmt.Sprintf("cannot reach the server at %s (%s)", addr, detail))
	}
	return st.Err()
}

// groupFlagSet returns the flag set of command name of group ("hasm", "referral") with the
// common flags, and the request id flag for mutations (requestID non-nil).
func (c *cli) groupFlagSet(group, name, synopsis string, requestID *string) (*flag.FlagSet, *clientOptions) {
	fs, o := newFlagSet(group, name, synopsis, c.stderr, c.getenv)
	if requestID != nil {
		fs.StringVar(requestID, "request-id", "", "`UUID` of this request, to retry one that got no reply (default: a new one)")
	}
	return fs, o
}

// groupParse parses a group's command's args, wants exactly want positional arguments (what
// says which, after the group's name, when they are not), and resolves the options.
func (c *cli) groupParse(group string, fs *flag.FlagSet, o *clientOptions, args []string, want int, what string) ([]string, map[string]bool, error) {
	pos, given, err := parseFlags(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if len(pos) != want {
		return nil, nil, fmt.Errorf("%s %s", group, what)
	}
	if err := o.resolve(given, c.getenv); err != nil {
		return nil, nil, err
	}
	return pos, given, nil
}

// listPages makes a list call and, with all, follows its page tokens to the last page,
// gathering the items; without all it gathers one page and tells stderr how to ask for the next
// (noun names the items). A failed call goes through failed, named method.
func listPages[Req interface{ GetPageToken() string }, Resp, T any](ctx context.Context, o *clientOptions, stderr io.Writer,
	method, noun string, all bool, failed func(method string, err error, requestID string) error,
	rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req, setToken func(string),
	page func(Resp) (items []T, next string),
) ([]T, error) {
	var out []T
	for {
		resp, err := call(ctx, o, rpc, req)
		if err != nil {
			return nil, failed(method, err, "")
		}
		items, next := page(resp)
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		if !all {
			fmt.Fprintf(stderr, "more %s: add --page-token %s (or use --all)\n", noun, next)
			return out, nil
		}
		if next == req.GetPageToken() {
			return nil, errors.New(method + " returned the same page token twice; stopping")
		}
		setToken(next)
	}
}

// printPages connects, gathers the pages of a list call (listPages) and prints the items: with
// --json as the response asJSON makes of them, "no <noun>" on stderr when there are none, else
// with human.
func printPages[Client any, Req interface{ GetPageToken() string }, Resp, T any](ctx context.Context, o *clientOptions,
	stdout, stderr io.Writer, failed func(method string, err error, requestID string) error,
	connect func(clientOptions) (Client, func(), error), method, noun string, all bool,
	rpc func(Client, context.Context, Req, ...grpc.CallOption) (Resp, error), req Req, setToken func(string),
	page func(Resp) (items []T, next string), asJSON func([]T) proto.Message, human func(io.Writer, []T) error,
) error {
	client, done, err := connect(*o)
	if err != nil {
		return err
	}
	defer done()
	items, err := listPages(ctx, o, stderr, method, noun, all, failed,
		func(ctx context.Context, req Req, opts ...grpc.CallOption) (Resp, error) {
			return rpc(client, ctx, req, opts...)
		},
		req, setToken, page)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(stdout, asJSON(items))
	}
	if len(items) == 0 {
		fmt.Fprintln(stderr, "no "+noun)
		return nil
	}
	return human(stdout, items)
}

// mutationOn fills in a mutation's request id (a new one unless given), announces it, so that
// a caseworker whose link drops can repeat the command and have it applied once, and makes the
// call (unaryOn).
func mutationOn[Client any, Req interface {
	proto.Message
	GetRequestId() string
}, Resp proto.Message](ctx context.Context, c *cli, o *clientOptions, connect func(clientOptions) (Client, func(), error),
	method string, req Req, setID func(string),
	rpc func(Client, context.Context, Req, ...grpc.CallOption) (Resp, error), human func(io.Writer, Resp) error,
) error {
	if req.GetRequestId() == "" {
		setID(c.newRequestID())
	}
	c.announceRequestID(req.GetRequestId())
	return unaryOn(ctx, c, o, connect, method, req.GetRequestId(), rpc, req, human)
}

// unaryOn is unary for any service's client: connect gives the client (each command group
// has its own), rpc the call on it.
func unaryOn[Client, Req any, Resp proto.Message](ctx context.Context, c *cli, o *clientOptions,
	connect func(clientOptions) (Client, func(), error), method, requestID string,
	rpc func(Client, context.Context, Req, ...grpc.CallOption) (Resp, error),
	req Req, human func(io.Writer, Resp) error,
) error {
	client, done, err := connect(*o)
	if err != nil {
		return err
	}
	defer done()
	resp, err := call(ctx, o, func(ctx context.Context, req Req, opts ...grpc.CallOption) (Resp, error) {
		return rpc(client, ctx, req, opts...)
	}, req)
	if err != nil {
		return c.failed(method, err, requestID)
	}
	if o.json {
		return writeJSON(c.stdout, resp)
	}
	return human(c.stdout, resp)
}

// rpcError is a call that failed; its status has already been printed in full.
type rpcError struct {
	method string
	code   codes.Code
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s failed: %s", e.method, e.code) }

// failed prints a call's error status with its details and returns an rpcError.
func (c *cli) failed(method string, err error, requestID string) error {
	st := status.Convert(err)
	writeStatus(c.stderr, st)
	switch st.Code() {
	case codes.Unavailable, codes.Aborted, codes.DeadlineExceeded, codes.Canceled:
		switch {
		case requestID == "":
		case retrypolicy.MayHaveApplied(err):
			fmt.Fprintf(c.stderr, "the server may have applied the request: repeat the command with --request-id %s to apply it at most once\n", requestID)
		default:
			fmt.Fprintf(c.stderr, "the server applied nothing: repeat the command when it is available (--request-id %s keeps a repeat safe)\n", requestID)
		}
	case codes.Unauthenticated:
		fmt.Fprintln(c.stderr, "check --token or PASSAGE_TOKEN (tokens expire)")
	}
	return &rpcError{method: method, code: st.Code()}
}
