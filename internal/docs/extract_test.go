package docs_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/docs"
)

const sample = "# Title\n" +
	"Prose with `passage case get CASE_ID --full` inline,\n" +
	"and one that wraps: `passage analytics export\n" +
	"persons_returned --by sex`.\n" +
	"```sh\n" +
	"export PASSAGE_TOKEN=$(bin/passage dev-token --role caseworker --mission NER)\n" +
	"# a comment line\n" +
	"bin/passage case register --mission NER \\\n" +
	"  --given-name 'Amina #1'   # the comment goes\n" +
	"grpcurl -d '{\"a\":1,\n" +
	"  \"b\":2}' 127.0.0.1:7070 x.v1.S/M\n" +
	"passage referral list [--all]\n" +
	"passage referral deliveries list|replay\n" +
	"passage referral revoke REFERRAL_ID --version N\n" +
	"make run\n" +
	"ID=...   # the case id it printed\n" +
	"passage case close $ID --version 1   # refused: the version is stale\n" +
	"```\n" +
	"```go\n" +
	"passage case list\n" +
	"```\n" +
	"```console\n" +
	"$ passage analytics regions | tail -2\n" +
	"REGION  NAME\n" +
	"```\n"

func TestParse(t *testing.T) {
	t.Parallel()
	blocks, err := docs.Parse("x.md", sample)
	if err != nil {
		t.Fatal(err)
	}
	want := []docs.Block{
		{File: "x.md", Line: 5, Commands: []docs.Command{
			{File: "x.md", Line: 6, Kind: docs.Assign, Text: "export PASSAGE_TOKEN=$(bin/passage dev-token --role caseworker --mission NER)"},
			{File: "x.md", Line: 8, Kind: docs.Passage, Text: "bin/passage case register --mission NER --given-name 'Amina #1'"},
			{File: "x.md", Line: 10, Kind: docs.GRPCurl, Text: `grpcurl -d '{"a":1, "b":2}' 127.0.0.1:7070 x.v1.S/M`},
			{File: "x.md", Line: 12, Kind: docs.Passage, Text: "passage referral list [--all]", Synopsis: true},
			{File: "x.md", Line: 13, Kind: docs.Passage, Text: "passage referral deliveries list|replay", Synopsis: true},
			{File: "x.md", Line: 14, Kind: docs.Passage, Text: "passage referral revoke REFERRAL_ID --version N", Synopsis: true},
			{File: "x.md", Line: 15, Kind: docs.Make, Text: "make run"},
			{File: "x.md", Line: 16, Kind: docs.Assign, Text: "ID=..."},
			{File: "x.md", Line: 17, Kind: docs.Passage, Text: "passage case close $ID --version 1", Fails: true},
		}},
		{File: "x.md", Line: 22, Commands: []docs.Command{
			{File: "x.md", Line: 23, Kind: docs.Passage, Text: "passage analytics regions | tail -2"},
		}},
	}
	if diff := cmp.Diff(want, blocks); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
	if _, err := docs.Parse("x.md", "```sh\nmake run\n"); err == nil {
		t.Error("an unclosed fence is accepted")
	}
}

func TestInline(t *testing.T) {
	t.Parallel()
	got := docs.InlineCommands("x.md", sample)
	want := []docs.Command{
		{File: "x.md", Line: 2, Kind: docs.Passage, Text: "passage case get CASE_ID --full", Synopsis: true},
		{File: "x.md", Line: 3, Kind: docs.Passage, Text: "passage analytics export persons_returned --by sex", Synopsis: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inline commands (-want +got):\n%s", diff)
	}
}

// expander binds $A, $E (empty) and $(now), and refuses anything else.
type expander struct{}

func (expander) Var(name string) (string, error) {
	switch name {
	case "A":
		return "a b", nil
	case "E":
		return "", nil
	}
	return "", errors.New("unset " + name)
}

func (expander) Subst(command string) (string, error) {
	if command == "now" {
		return "2026-12-07", nil
	}
	return "", errors.New("no " + command)
}

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want []docs.Pipeline
	}{
		{`passage x --date $(now) "$A" $A`, []docs.Pipeline{{{"passage", "x", "--date", "2026-12-07", "a b", "a", "b"}}}},
		{`H="k: $A"; S=s.v1.S`, []docs.Pipeline{{{"H=k: a b"}}, {{"S=s.v1.S"}}}},
		{`grpcurl -d '{"id":"'$(now)'","x":"$A"}' h ${A}`, []docs.Pipeline{{{"grpcurl", "-d", `{"id":"2026-12-07","x":"$A"}`, "h", "a", "b"}}}},
		{`p a | tail -2 && q '' $E`, []docs.Pipeline{{{"p", "a"}, {"tail", "-2"}}, {{"q", ""}}}},
		{`echo \$A "\"q\""`, []docs.Pipeline{{{"echo", "$A", `"q"`}}}},
	}
	for _, tt := range tests {
		got, err := docs.Split(tt.line, expander{})
		if err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.line, diff)
		}
	}
	for _, bad := range []string{`x "open`, `x $(now`, `x $B`, `x $(later)`} {
		if _, err := docs.Split(bad, expander{}); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	paths, flags := docs.Paths(docs.Command{Text: `passage referral deliveries list|replay [--dead] [--partner ID] --by "A B"`})
	if diff := cmp.Diff([][]string{{"referral", "deliveries", "list"}, {"referral", "deliveries", "replay"}}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dead", "partner", "by"}, flags); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}
