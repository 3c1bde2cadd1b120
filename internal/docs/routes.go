package docs

import (
	"bufio"
	"os"
	"regexp"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// MakeTargets returns the targets a Makefile defines.
func MakeTargets(makefile string) (map[string]bool, error) {
	f, err := os.Open(makefile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rule := regexp.MustCompile(`^([A-Za-z0-9_.-]+(?:\s+[A-Za-z0-9_.-]+)*)\s*:([^=]|$)`)
	targets := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := rule.FindStringSubmatch(sc.Text()); m != nil {
			for _, t := range strings.Fields(m[1]) {
				targets[t] = true
			}
		}
	}
	return targets, sc.Err()
}

// Route is one HTTP binding (google.api.http) of a gRPC method: what the gateway serves.
type Route struct {
	// Verb is the HTTP method, GET or POST…
	Verb string
	// Template is the path template, e.g. /v1/referrals/{referral_id}:accept.
	Template string
	// Method is the gRPC method.
	Method protoreflect.MethodDescriptor
	// Body names the request's field the HTTP body holds: "*" for the whole request, empty
	// for none.
	Body string
	path string
}

// Match reports whether a request's verb and path (no query) are the route's.
func (r Route) Match(verb, path string) bool {
	return r.Verb == verb && regexp.MustCompile(r.path).MatchString(path)
}

// BodyMessage returns a new message of what the route's HTTP body holds; nil if it holds
// nothing, or the field is not a message.
func (r Route) BodyMessage() (proto.Message, error) {
	d := r.Method.Input()
	switch r.Body {
	case "":
		return nil, nil
	case "*":
	default:
		f := d.Fields().ByName(protoreflect.Name(r.Body))
		if f == nil || f.Message() == nil {
			return nil, nil
		}
		d = f.Message()
	}
	return newMessage(d)
}

var field = regexp.MustCompile(`\{[^}]*\}`)

// Routes returns the HTTP bindings of every service linked into the binary.
func Routes() []Route {
	var routes []Route
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			methods := fd.Services().Get(i).Methods()
			for j := range methods.Len() {
				m := methods.Get(j)
				rule, ok := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
				if !ok || rule == nil {
					continue
				}
				for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
					if verb, tmpl := binding(r); tmpl != "" {
						routes = append(routes, newRoute(verb, tmpl, r.GetBody(), m))
					}
				}
			}
		}
		return true
	})
	return routes
}

func binding(r *annotations.HttpRule) (verb, template string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "GET", p.Get
	case *annotations.HttpRule_Post:
		return "POST", p.Post
	case *annotations.HttpRule_Put:
		return "PUT", p.Put
	case *annotations.HttpRule_Patch:
		return "PATCH", p.Patch
	case *annotations.HttpRule_Delete:
		return "DELETE", p.Delete
	case *annotations.HttpRule_Custom:
		return p.Custom.GetKind(), p.Custom.GetPath()
	}
	return "", ""
}

func newRoute(verb, template, body string, method protoreflect.MethodDescriptor) Route {
	parts := field.Split(template, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	// A path variable is one segment, up to a custom verb's colon.
	return Route{Verb: verb, Template: template, Method: method, Body: body,
		path: "^" + strings.Join(parts, `[^/:]+`) + "$"}
}
