package healthcheck

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/server"
)

const (
	// DefaultTimeout bounds the probe, connection and answer, unless --timeout says otherwise.
	DefaultTimeout = 3 * time.Second
	// MaxBody is how much of an HTTP answer's body is read: the probes' bodies are a few
	// words, and a probe must not read whatever a wrong address sends.
	MaxBody = 512
	// MaxLine is the most characters of the body's first line a result repeats.
	MaxLine = 120
)

// Options are the command's flags.
type Options struct {
	// Live probes /healthz (the process is alive) rather than /readyz (it can take traffic).
	Live bool
	// HTTPAddr is the probe listener's host:port; empty, PASSAGE_HTTP_ADDR as `serve` reads it.
	HTTPAddr string
	// GRPCAddr, when set, makes the probe a gRPC health check of the server there.
	GRPCAddr string
	// Service is the gRPC service whose health is asked ("passage.intake.v1.IntakeService");
	// empty, the server's as a whole.
	Service string
	// Timeout bounds the whole probe.
	Timeout time.Duration
	// TLS is the gRPC probe's transport.
	TLS mtls.ClientFlags
}

// Flags defines the command's flags on fs, with their defaults (the TLS files' from getenv),
// and fs's usage, that of command's healthcheck ("passage", "passage-intake"); it returns the
// options the flags fill. Check them with [Options.Check] once fs is parsed.
func Flags(fs *flag.FlagSet, command string, getenv func(string) string) *Options {
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: "+command+" healthcheck [--live] [--http host:port] [--timeout D]\n"+
			"       "+command+" healthcheck --grpc host:port [--service NAME] [--timeout D] [--insecure] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE] [--tls-server-name NAME]\n"+
			"\nflags:\n")
		fs.PrintDefaults()
	}
	o := &Options{}
	fs.BoolVar(&o.Live, "live", false, "probe /healthz (alive) instead of /readyz (ready for traffic)")
	fs.StringVar(&o.HTTPAddr, "http", "", "the probe listener's `host:port` (default: PASSAGE_HTTP_ADDR as serve reads it, else "+server.DefaultHTTPAddr+"; an unspecified host is probed on loopback)")
	fs.StringVar(&o.GRPCAddr, "grpc", "", "ask the gRPC health service at `host:port` instead of HTTP")
	fs.StringVar(&o.Service, "service", "", "with --grpc, the health of this gRPC service (`NAME`, passage.intake.v1.IntakeService) rather than the server's")
	fs.DurationVar(&o.Timeout, "timeout", DefaultTimeout, "bound of the probe, connection and answer; one attempt, no retry")
	o.TLS.Register(fs, getenv, "grpc")
	return o
}

// grpcOnly are the flags that make sense with --grpc alone.
var grpcOnly = []string{"service", "insecure", "tls-ca", "tls-cert", "tls-key", "tls-server-name"}

// Check refuses what fs's command line asks that cannot be done, and resolves the gRPC
// transport (mtls.ClientFlags.Resolve). fs is the parsed flag set [Flags] defined on.
func (o *Options) Check(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if o.Timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	if o.GRPCAddr == "" {
		for _, name := range grpcOnly {
			if given[name] {
				return fmt.Errorf("--%s is for a gRPC probe: add --grpc host:port", name)
			}
		}
		return nil
	}
	if given["live"] || given["http"] {
		return errors.New("--grpc asks the gRPC health service: --live and --http are for the HTTP probe")
	}
	o.TLS.Resolve(o.GRPCAddr, given["insecure"])
	return nil
}

// Run makes the probe the options describe and prints its one-line result on stdout when the
// server is healthy (an HTTP 200, gRPC SERVING); otherwise it returns why in one line, after
// "healthcheck: ".
func Run(ctx context.Context, o Options, stdout io.Writer) error {
	result, err := probe(ctx, o)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	_, err = fmt.Fprintln(stdout, result)
	return err
}

// probe makes the probe and returns its one-line result when the server is healthy, else an
// error saying why in one line.
func probe(ctx context.Context, o Options) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if o.GRPCAddr != "" {
		return probeGRPC(ctx, o)
	}
	return probeHTTP(ctx, o)
}

// probeHTTP asks /readyz or /healthz once.
func probeHTTP(ctx context.Context, o Options) (string, error) {
	addr := o.HTTPAddr
	if addr == "" {
		cfg, err := server.ConfigFromEnv()
		if err != nil {
			return "", err
		}
		addr = cfg.HTTPAddr
	}
	path := "/readyz"
	if o.Live {
		path = "/healthz"
	}
	u := url.URL{Scheme: "http", Host: onLoopback(addr), Path: path}
	target := u.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", fmt.Errorf("%s: %w", target, err)
	}
	client := &http.Client{
		// No proxy (HTTP_PROXY is for the server's own calls), no connection kept, small headers.
		Transport: &http.Transport{
			DialContext:            (&net.Dialer{}).DialContext,
			DisableKeepAlives:      true,
			MaxResponseHeaderBytes: 16 << 10,
		},
		// A load balancer takes a redirect as the answer, not as a place to go.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s: %s", target, reason(ctx, o.Timeout, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return "", fmt.Errorf("%s: %d, then %s", target, resp.StatusCode, reason(ctx, o.Timeout, err))
	}
	// Trimmed: an empty first line leaves no space after the status.
	result := strings.TrimSpace(fmt.Sprintf("%s: %d %s", target, resp.StatusCode, firstLine(body)))
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(result)
	}
	return result, nil
}

// probeGRPC asks the gRPC health service once.
func probeGRPC(ctx context.Context, o Options) (string, error) {
	what := "gRPC health of " + o.GRPCAddr
	if o.Service != "" {
		what += " " + o.Service
	}
	creds, err := o.TLS.Credentials()
	if err != nil {
		return "", err
	}
	// No service configuration from the resolver, so no retry policy: one attempt.
	conn, err := grpc.NewClient(o.GRPCAddr, grpc.WithTransportCredentials(creds), grpc.WithDisableServiceConfig())
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: o.Service})
	if err != nil {
		st := status.Convert(err)
		if st.Code() == codes.DeadlineExceeded {
			return "", fmt.Errorf("%s: no answer within %s", what, o.Timeout)
		}
		return "", fmt.Errorf("%s: %s: %s", what, st.Code(), oneLine(st.Message()))
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return "", fmt.Errorf("%s: %s", what, resp.GetStatus())
	}
	return what + ": " + resp.GetStatus().String(), nil
}

// onLoopback returns addr with an unspecified host (":7080", "0.0.0.0:7080", "[::]:7080": a
// listener on every interface) replaced by the loopback address of its family, where the
// server is reached from inside its own container.
func onLoopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch ip, err := netip.ParseAddr(host); {
	case host == "":
		host = "127.0.0.1"
	case err == nil && ip.IsUnspecified() && ip.Is4():
		host = "127.0.0.1"
	case err == nil && ip.IsUnspecified():
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// reason says in one line why a request failed: the timeout when it ran out, else the
// transport's error without the method and URL the result names already.
func reason(ctx context.Context, timeout time.Duration, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return oneLine(err.Error())
}

// firstLine returns the first line of body, its unprintable characters dropped, cut to
// MaxLine characters.
func firstLine(body []byte) string {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	return oneLine(string(line))
}

// oneLine keeps s's printable characters (a line break or a terminal escape in an answer
// cannot forge a second line of the result), cut to MaxLine.
func oneLine(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(s) {
		if !unicode.IsPrint(r) {
			continue
		}
		if n == MaxLine {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
