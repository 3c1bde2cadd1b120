package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// runArgs runs a command line as main does and returns its exit status and output.
func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// Help, asked for at any level, goes to standard output and exits 0.
func TestHelpOnStdout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // stdout contains it
	}{
		{[]string{"-h"}, "usage: passage <command>"},
		{[]string{"--help"}, "usage: passage <command>"},
		{[]string{"help"}, "usage: passage <command>"},
		{[]string{"migrate", "-h"}, "usage: passage migrate"},
		{[]string{"migrate", "up", "-h"}, "usage: passage migrate"},
		{[]string{"serve", "-h"}, "PASSAGE_MAX_TOKEN_LIFETIME (default 12h)"},
		{[]string{"serve", "--help"}, "DATABASE_URL"},
		{[]string{"dev-token", "-h"}, "-role"},
		{[]string{"case", "-h"}, "usage: passage case <command>"},
		{[]string{"case", "help"}, "usage: passage case <command>"},
		{[]string{"case", "register", "-h"}, "-given-name"},
		{[]string{"case", "get", "--help"}, "-purpose"},
		{[]string{"case", "list", "-h"}, "-page-token"},
		{[]string{"returns", "-h"}, "usage: passage returns <command>"},
		{[]string{"returns", "get", "-h"}, "-timeout"},
		{[]string{"returns", "eligibility", "-h"}, "-decided"},
		{[]string{"trafficking", "-h"}, "usage: passage trafficking <command>"},
		{[]string{"trafficking", "get", "-h"}, "-timeout"},
		{[]string{"hasm", "-h"}, "usage: passage hasm <command>"},
		{[]string{"hasm", "get", "-h"}, "-timeout"},
		{[]string{"hasm", "fund", "-h"}, "usage: passage hasm <command>"},
		{[]string{"hasm", "fund", "get", "-h"}, "-code"},
		{[]string{"referral", "-h"}, "usage: passage referral <command>"},
		{[]string{"referral", "get", "-h"}, "-timeout"},
		{[]string{"referral", "deliveries", "-h"}, "usage: passage referral deliveries"},
		{[]string{"referral", "deliveries", "list", "-h"}, "-dead"},
		{[]string{"note", "-h"}, "usage: passage note <command>"},
		{[]string{"note", "add", "-h"}, "-text-file"},
		{[]string{"note", "edit", "-h"}, "-version"},
		{[]string{"note", "get", "-h"}, "-history"},
		{[]string{"note", "list", "-h"}, "-purpose"},
		{[]string{"followup", "-h"}, "usage: passage followup <command>"},
		{[]string{"followup", "list", "-h"}, "-due-before"},
		{[]string{"followup", "get", "-h"}, "-timeout"},
		{[]string{"followup", "close", "-h"}, "-not-needed"},
		{[]string{"followup", "assign", "-h"}, "-to"},
		{[]string{"followup", "schedule", "-h"}, "usage: passage followup schedule"},
		{[]string{"followup", "schedule", "set", "-h"}, "-override"},
		{[]string{"analytics", "-h"}, "usage: passage analytics <command>"},
		{[]string{"analytics", "regions", "-h"}, "-timeout"},
		{[]string{"demo", "-h"}, "usage: passage demo seed"},
		{[]string{"demo", "seed", "-h"}, "-scale"},
		{[]string{"demo", "load", "-h"}, "-persons"},
		{[]string{"demo", "bench", "-h"}, "-concurrency"},
		{[]string{"audit", "-h"}, "usage: passage audit verify"},
		{[]string{"audit", "verify", "-h"}, "usage: passage audit verify"},
		{[]string{"keys", "-h"}, "usage: passage keys <command>"},
		{[]string{"keys", "status", "-h"}, "-dev"},
		{[]string{"retention", "-h"}, "usage: passage retention"},
		{[]string{"retention", "report", "-h"}, "-at"},
		{[]string{"erase", "-h"}, "-subject"},
		{[]string{"healthcheck", "-h"}, "usage: passage healthcheck [--live]"},
		{[]string{"healthcheck", "--help"}, "-grpc"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(t, tt.args...)
		if code != 0 || !strings.Contains(stdout, tt.want) || stderr != "" {
			t.Errorf("passage %s: exit %d, stdout %q, stderr %q; want exit 0 and %q on stdout alone",
				strings.Join(tt.args, " "), code, stdout, stderr, tt.want)
		}
	}
}

// Every command realMain runs is listed in passage's usage, at the start of a line.
func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var commands []string
	ast.Inspect(f, func(n ast.Node) bool {
		if fn, ok := n.(*ast.FuncDecl); ok && fn.Name.Name != "realMain" {
			return false
		}
		if c, ok := n.(*ast.CaseClause); ok {
			for _, e := range c.List {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					name, _ := strconv.Unquote(lit.Value)
					commands = append(commands, name)
				}
			}
		}
		return true
	})
	if len(commands) < 20 {
		t.Fatalf("found %d commands in realMain: %q", len(commands), commands)
	}
	for _, name := range commands {
		if isHelp(name) {
			continue
		}
		if !strings.Contains(usage, "\n  "+name+" ") {
			t.Errorf("passage's usage does not list %q", name)
		}
	}
}

// A wrong command line is said once on stderr, and exits 2.
func TestUsageErrorsOnStderr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // the whole of stderr; "usage: …" for a usage text
	}{
		{nil, "usage: passage <command>"},
		{[]string{"case"}, "usage: passage case <command>"},
		{[]string{"keys"}, "usage: passage keys <command>"},
		{[]string{"nonsense"}, "passage: unknown command \"nonsense\" (passage -h for help)\n"},
		{[]string{"case", "delete"}, "passage: case: unknown command \"delete\" (passage case -h for help)\n"},
		{[]string{"keys", "spin"}, "passage: keys: unknown command \"spin\" (passage keys -h for help)\n"},
		{[]string{"retention", "spin"}, "passage: retention: unknown command \"spin\" (passage retention -h for help)\n"},
		{[]string{"audit", "spin"}, "passage: audit: unknown command \"spin\" (passage audit -h for help)\n"},
		{[]string{"migrate", "sideways"}, "passage: migrate: want one of up, down, version (passage migrate -h for help)\n"},
		{[]string{"case", "list", "--colour"}, "passage: case list: flag provided but not defined: -colour (passage case list -h for help)\n"},
		{[]string{"returns", "get", "--version", "x"}, "passage: returns get: flag provided but not defined: -version (passage returns get -h for help)\n"},
		{[]string{"returns", "list", "--page-size", "many"}, "passage: returns list: invalid value \"many\" for flag -page-size: parse error (passage returns list -h for help)\n"},
		{[]string{"dev-token", "--role", "caseworker", "extra"}, "passage: dev-token: unexpected argument \"extra\" (passage dev-token -h for help)\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runArgs(t, tt.args...)
		ok := code == 2 && stdout == ""
		if strings.HasPrefix(tt.want, "usage: ") {
			ok = ok && strings.HasPrefix(stderr, tt.want) && !strings.Contains(stderr, "passage:")
		} else {
			ok = ok && stderr == tt.want
		}
		if !ok {
			t.Errorf("passage %s: exit %d, stdout %q, stderr %q; want exit 2 and stderr %q",
				strings.Join(tt.args, " "), code, stdout, stderr, tt.want)
		}
	}
}

// A failed call prints its status once: the client's own account, not a summary after it.
func TestFailedCallPrintedOnce(t *testing.T) {
	t.Parallel()
	fake := &fakeIntake{err: status.Error(codes.NotFound, "no such case")}
	c, stdout, stderr := newTestCLI(fake, tokenEnv)
	code := exitCode(c.caseRun(t.Context(), []string{"get", testCaseID}), stdout, stderr)
	if want := "NotFound: no such case\n"; code != 1 || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and stderr %q", code, stdout, stderr, want)
	}
}

// Any other error is printed once, prefixed, and exits 1.
func TestOtherErrorPrintedOnce(t *testing.T) {
	t.Parallel()
	c, stdout, stderr := newTestCLI(&fakeIntake{}, nil)
	code := exitCode(c.caseRun(t.Context(), []string{"get", testCaseID}), stdout, stderr)
	if want := "passage: " + errNoToken.Error() + "\n"; code != 1 || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
	}
}

// An address where nothing listens is said so, and a write to it is said to be applied
// nowhere: the call never reached a server.
func TestUnreachableServerSaidSo(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"case", "close", testCaseID, "--version", "1", "--reason", "assistance_completed",
		"--addr", addr, "--token", "tok", "--timeout", "2s"}, &stdout, &stderr)
	out := stderr.String()
	want := "Unavailable: cannot reach the server at " + addr + " (dial tcp " + addr + ": connect: connection refused)\n" +
		"retrying until the --timeout of 2s ends (interrupt to stop)\n"
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "may_have_applied: false") ||
		!strings.Contains(out, "the server applied nothing") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1, %q at once, and nothing applied", code, out, want)
	}
}
