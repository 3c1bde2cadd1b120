package docs_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/docs"
)

// recorder is a testing.TB that keeps what a Session reports.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.errors = append(r.errors, fmt.Sprint(args...)) }

func (r *recorder) Logf(string, ...any) {}

const (
	caseID    = "0b6a1f2e-4c1d-4d7e-9a6b-2f3c4d5e6f70"
	subjectID = "1c7b2a3f-5d2e-4e8f-8b7c-3a4d5e6f7a81"
)

// fakePassage answers as the CLI would: a token per mission, one case registered in NER.
func fakePassage(env map[string]string) func([]string, io.Writer, io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		switch cmd := strings.Join(args, " "); {
		case strings.HasPrefix(cmd, "dev-token "):
			fmt.Fprintln(stdout, "token-"+args[len(args)-1])
		case strings.HasPrefix(cmd, "case register ") && env["PASSAGE_TOKEN"] == "token-NER":
			fmt.Fprintf(stdout, "case       %s\nprincipal  subject %s  female\n", caseID, subjectID)
		case cmd == "case get "+caseID, strings.HasPrefix(cmd, "case get "+caseID+" --date 20"):
		case cmd == "case list -h":
		case cmd == "case get -h":
			fmt.Fprintln(stdout, "usage: passage case get CASE_ID\n  -full\n  -purpose PURPOSE")
		default:
			fmt.Fprintln(stderr, "NotFound")
			return 1
		}
		return 0
	}
}

// A session binds CASE_ID, $ID and $(date …) from what came before, for the caller who saw
// them; a synopsis with a flag the command lacks, a placeholder no earlier output binds and
// a stale known failure are errors naming the doc's line; a known failure and a command the
// doc says fails are not.
func TestSession(t *testing.T) {
	t.Parallel()
	blocks, err := docs.Parse("x.md", "```sh\n"+
		"export PASSAGE_TOKEN=$(passage dev-token --role caseworker --mission NER)\n"+
		"passage case register --mission NER --given-name Amina\n"+
		"passage case get CASE_ID\n"+
		"ID=...   # the case id it printed\n"+
		"passage case get $ID --date $(date -u +%F)\n"+
		"passage case get SUBJECT_ID   # fails: a subject id is not a case id\n"+
		"passage case get CASE_ID [--full] [--purpose P]\n"+
		"passage case get CASE_ID [--reason R]\n"+
		"```\n"+
		"```sh\n"+
		"export PASSAGE_TOKEN=$(passage dev-token --role caseworker --mission DEU)\n"+
		"passage case get CASE_ID\n"+
		"passage case list\n"+
		"```\n"+
		"```sh\n"+
		"passage case get nope\n"+
		"```\n")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	rec := &recorder{TB: t}
	s := &docs.Session{
		Passage:       fakePassage(env),
		Setenv:        func(name, value string) { env[name] = value },
		KnownFailures: map[string]string{"passage case get nope": "no such case", "passage case gone": "moved away"},
	}
	s.Run(rec, blocks)
	s.Done(rec)
	want := []string{
		"x.md:9: passage case get CASE_ID [--reason R]\n`passage case get` has no flag --reason",
		"x.md:13: passage case get CASE_ID\nCASE_ID is not bound: no earlier command printed the case id",
		`known failure "passage case gone" (moved away) is shown by no doc`,
	}
	if len(rec.errors) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(rec.errors), len(want), strings.Join(rec.errors, "\n---\n"))
	}
	for i, w := range want {
		if i < len(rec.errors) && !strings.HasPrefix(rec.errors[i], w) {
			t.Errorf("error %d:\n%s\nwant it to begin\n%s", i, rec.errors[i], w)
		}
	}
}
