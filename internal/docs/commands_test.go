package docs_test

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/passage-cm/passage/internal/docs"
	// The services `passage serve` runs: their contracts, with the HTTP bindings, are linked in.
	_ "github.com/passage-cm/passage/services/catalog"
)

var root = filepath.Join("..", "..")

// shown is one statement of a documented command line, as words.
type shown struct {
	docs.Command
	words []string
}

// statements returns every statement the docs show, of the kind, its variables expanded
// where an earlier line of the same document set them (S=passage.analytics.v1.…), left as
// written ($ID) otherwise.
func statements(t *testing.T, kind docs.Kind) []shown {
	t.Helper()
	blocks, err := docs.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []shown
	vars, file := docs.Literal{}, ""
	for _, b := range blocks {
		if b.File != file {
			vars, file = docs.Literal{}, b.File
		}
		for _, c := range b.Commands {
			stmts, err := docs.Split(c.Text, vars)
			if err != nil {
				t.Errorf("%s: %v", c, err)
				continue
			}
			for _, p := range stmts {
				words := p[0]
				k := docs.Passage
				switch words[0] {
				case "make":
					k = docs.Make
				case "grpcurl":
					k = docs.GRPCurl
				case "curl":
					k = docs.Curl
				}
				if c.Kind == docs.Assign {
					for _, w := range slices.DeleteFunc(slices.Clone(words), func(w string) bool { return w == "export" }) {
						if name, value, ok := strings.Cut(w, "="); ok {
							vars[name] = value
						}
					}
				}
				if k == kind {
					out = append(out, shown{c, words})
				}
			}
		}
	}
	return out
}

// Every make target the docs name is one the Makefile defines.
func TestMakeTargets(t *testing.T) {
	t.Parallel()
	targets, err := docs.MakeTargets(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statements(t, docs.Make) {
		for _, w := range s.words[1:] {
			if strings.HasPrefix(w, "-") || strings.Contains(w, "=") {
				continue // a flag of make, or a variable
			}
			if !targets[w] {
				t.Errorf("%s\nthe Makefile has no target %q", s.Command, w)
			}
		}
	}
}

// Every grpcurl call the docs show names a method of a registered service, with a request
// that is one of its messages.
func TestGRPCurlMethods(t *testing.T) {
	t.Parallel()
	for _, s := range statements(t, docs.GRPCurl) {
		call, err := docs.ParseGRPCurl(s.words[1:])
		if err != nil {
			t.Errorf("%s\n%v", s.Command, err)
			continue
		}
		if call.Method == "list" {
			continue
		}
		md, err := docs.Method(call.Method)
		if err != nil {
			t.Errorf("%s\n%v", s.Command, err)
			continue
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		if err != nil {
			t.Fatal(err)
		}
		if err := protojson.Unmarshal([]byte(call.Request), mt.New().Interface()); err != nil {
			t.Errorf("%s\nthe request is not a %s: %v", s.Command, md.Input().FullName(), err)
		}
	}
}

// Every curl call the docs show is a route of the HTTP/JSON gateway, with its verb, and
// its body is what the route takes.
func TestCurlPaths(t *testing.T) {
	t.Parallel()
	routes := docs.Routes()
	if len(routes) == 0 {
		t.Fatal("no service has HTTP bindings: are the contracts linked in?")
	}
	for _, s := range statements(t, docs.Curl) {
		call, err := docs.ParseCurl(s.words[1:])
		if err != nil {
			t.Errorf("%s\n%v", s.Command, err)
			continue
		}
		u, err := url.Parse(call.URL)
		if err != nil {
			t.Errorf("%s\n%v", s.Command, err)
			continue
		}
		i := slices.IndexFunc(routes, func(r docs.Route) bool { return r.Match(call.Verb, u.Path) })
		if i < 0 {
			t.Errorf("%s\nthe gateway has no route %s %s", s.Command, call.Verb, u.Path)
			continue
		}
		body, err := routes[i].BodyMessage()
		if err != nil {
			t.Fatal(err)
		}
		if body != nil && call.Body != "" {
			if err := protojson.Unmarshal([]byte(call.Body), body); err != nil {
				t.Errorf("%s\nthe body is not what %s %s takes (%s): %v", s.Command, call.Verb, routes[i].Template, routes[i].Method.FullName(), err)
			}
		}
	}
}
