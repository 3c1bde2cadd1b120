package attack_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/passage-cm/passage/internal/testserver"
)

// frame is a request or response as bytes on the wire, so that the suite can send what a
// well-behaved client library would refuse to encode (invalid UTF-8 in a string field).
type frame struct{ b []byte }

// rawCodec passes frames through untouched. It is named "proto" so the server decodes the
// bytes with its ordinary codec.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(*frame).b, nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*frame).b = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// sentinel marks the attacked field in an encoded request; invalidUTF8 replaces it byte for
// byte, so every length prefix around it stays right.
const sentinel = "attack-sentinel-7f3a"

var invalidUTF8 = "\xff\xfe" + strings.Repeat("\xc0", len(sentinel)-2)

// payload is one hostile value for a string field.
type payload struct {
	name string
	// value is set in the field; repeated fields get it repeatedCount times.
	value    string
	repeated int
	// raw swaps the sentinel for invalid UTF-8 after encoding.
	raw bool
	// echo is a part of the value the server must never send back: in production it could be
	// a victim's name.
	echo string
}

var payloads = []payload{
	{name: "sql", value: `x'); DROP TABLE vault.identity; --`, repeated: 1, echo: "DROP TABLE"},
	{name: "sql-tautology", value: `' OR '1'='1' --`, repeated: 1, echo: "OR '1'='1'"},
	{name: "nul", value: "Amina\x00Diallo", repeated: 1, echo: "Diallo"},
	{name: "invalid-utf8", value: sentinel, repeated: 1, raw: true},
	// 1 MiB is refused by grpc's size limit (RESOURCE_EXHAUSTED) before any of our code runs;
	// just under the limit reaches validation and the handlers.
	{name: "1MiB", value: strings.Repeat("A", 1<<20), repeated: 1},
	{name: "just-under-the-limit", value: strings.Repeat("A", 1<<20-4<<10), repeated: 1},
	{name: "10k-elements", value: "Diallo", repeated: 10_000, echo: "Diallo"},
}

// stringField is a path from the request message to one of its string fields.
type stringField []protoreflect.FieldDescriptor

func (p stringField) String() string {
	names := make([]string, len(p))
	for i, fd := range p {
		names[i] = string(fd.Name())
	}
	return strings.Join(names, ".")
}

// violation is the field as the server names it in a violation: every repeated field on
// the way is the first element, as encode builds it.
func (p stringField) violation() string {
	names := make([]string, len(p))
	for i, fd := range p {
		names[i] = string(fd.Name())
		if fd.IsList() {
			names[i] += "[0]"
		}
	}
	return strings.Join(names, ".")
}

// stringFields walks md for every string field, through nested messages up to a depth that
// covers every request in the contracts (a person inside a registration, say).
func stringFields(md protoreflect.MessageDescriptor) []stringField {
	var out []stringField
	var walk func(md protoreflect.MessageDescriptor, prefix stringField, seen map[protoreflect.FullName]bool)
	walk = func(md protoreflect.MessageDescriptor, prefix stringField, seen map[protoreflect.FullName]bool) {
		if seen[md.FullName()] || len(prefix) > 4 {
			return
		}
		seen[md.FullName()] = true
		defer delete(seen, md.FullName())
		fields := md.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			path := append(append(stringField(nil), prefix...), fd)
			switch {
			case fd.IsMap():
				// No request carries a map today; fail loudly when one does.
				panic(fmt.Sprintf("%s: map fields are not attacked yet", fd.FullName()))
			case fd.Kind() == protoreflect.StringKind:
				out = append(out, path)
			case fd.Kind() == protoreflect.MessageKind:
				// Well-known types (timestamps, dates) hold no text.
				if !strings.HasPrefix(string(fd.Message().FullName()), "google.") {
					walk(fd.Message(), path, seen)
				}
			}
		}
	}
	walk(md, nil, map[protoreflect.FullName]bool{})
	return out
}

// encode builds a request of type mt with only the attacked field set.
func encode(t *testing.T, mt protoreflect.MessageType, path stringField, p payload) []byte {
	t.Helper()
	msg := mt.New()
	m := msg
	for _, fd := range path[:len(path)-1] {
		if fd.IsList() {
			m = m.Mutable(fd).List().AppendMutable().Message()
		} else {
			m = m.Mutable(fd).Message()
		}
	}
	last := path[len(path)-1]
	if last.IsList() {
		l := m.Mutable(last).List()
		for range p.repeated {
			l.Append(protoreflect.ValueOfString(p.value))
		}
	} else {
		m.Set(last, protoreflect.ValueOfString(p.value))
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg.Interface())
	if err != nil {
		t.Fatalf("encode %s: %v", path, err)
	}
	if p.raw {
		b = bytes.Replace(b, []byte(sentinel), []byte(invalidUTF8), 1)
	}
	return b
}

// TestHostileStrings sends every hostile payload in every string field of every request of
// every service, as a caller the method's policy allows. Each is refused or handled: never
// INTERNAL, UNKNOWN or a dropped connection (a panic or a database error surfacing), never
// echoing the value, and nothing is written.
func TestHostileStrings(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	all := tables(t, env)
	before := env.RowCounts(t, all...)

	var mu sync.Mutex
	byCode := map[codes.Code]int{}
	t.Run("calls", func(t *testing.T) {
		for _, m := range methods(t) {
			t.Run(m.full, func(t *testing.T) {
				t.Parallel()
				mt, err := protoregistry.GlobalTypes.FindMessageByName(m.desc.Input().FullName())
				if err != nil {
					t.Fatal(err)
				}
				ctx := callerFor(t, env, m)
				fields := stringFields(m.desc.Input())
				for _, field := range fields {
					for _, p := range payloads {
						if p.repeated > 1 && !field[len(field)-1].IsList() {
							continue
						}
						err := invoke(ctx, env, m.full, encode(t, mt, field, p))
						what := fmt.Sprintf("%s %s=%s", m.desc.Name(), field, p.name)
						checkRefusal(t, what, err, p)
						if p.raw {
							// Invalid UTF-8 is refused before anything else, naming the field.
							got := testserver.FieldViolations(status.Convert(err))
							if diff := cmp.Diff([]string{field.violation()}, got); diff != "" {
								t.Errorf("%s: field violations (-want +got):\n%s", what, diff)
							}
						}
						mu.Lock()
						byCode[status.Code(err)]++
						mu.Unlock()
					}
				}
			})
		}
	})
	t.Logf("hostile calls by answer: %v", byCode)
	if diff := cmp.Diff(before, env.RowCounts(t, all...)); diff != "" {
		t.Errorf("hostile calls wrote rows (-before +after):\n%s", diff)
	}
	// Nor do the server's logs carry what was sent: it could have been a victim's name.
	logs := env.Logs.String()
	for _, p := range payloads {
		if p.echo != "" && strings.Contains(logs, p.echo) {
			t.Errorf("the server logged the %s payload", p.name)
		}
	}
	if !strings.Contains(logs, "InvalidArgument") {
		t.Error("the server logged no refusal: are the logs captured?")
	}
}

func invoke(ctx context.Context, env *testserver.Env, method string, req []byte) error {
	return env.Conn.Invoke(ctx, method, &frame{b: req}, &frame{}, grpc.ForceCodec(rawCodec{}))
}

// checkRefusal fails the test if err is a sign of a crash or a leak.
func checkRefusal(t *testing.T, what string, err error, p payload) {
	t.Helper()
	st := status.Convert(err)
	switch st.Code() {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable, codes.Unimplemented:
		t.Errorf("%s: %v, want a refusal or an answer", what, st.Code())
	case codes.OK:
		// A read may answer (an empty page, say); the row counts prove nothing was written.
	}
	if p.echo != "" && strings.Contains(fmt.Sprint(st.Proto()), p.echo) {
		t.Errorf("%s: the status echoes the input", what)
	}
}
