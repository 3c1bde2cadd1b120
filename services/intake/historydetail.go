package intake

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/passage-cm/passage/internal/enumcode"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"

	// The programme services' events, so that their payloads decode (outbox.Record.Decode
	// finds types in the global registry) into the history's details.
	_ "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	_ "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// An entry's details are the coded fields of its event, read from the payload by reflection,
// so that every event type of every service has them without a summary written per type:
// enum codes, dates, numbers and true flags, of the event and of the messages it carries (a
// case, a decision, an arrival), one level down. Lists of messages (a case's members, its
// consents) are left out: their own events say what changed in them. Strings are left out
// but for a few named codes (countries, missions, currencies) and staff subjects, each
// checked to look like one: an event holds no identity, but a subject id, a case id or a
// free-text field (a name, if one were ever added) must not reach a history either.

// detailDepth is how far below the event its messages are read: the event's own fields (0)
// and those of the messages it carries (1).
const detailDepth = 1

// codeString matches the strings a detail may show: upper-case codes ("IRQ", "DEU-BER",
// "EUR").
var codeString = regexp.MustCompile(`^[A-Z][A-Z0-9-]{1,23}$`)

// staffString matches a pseudonymous staff subject, as tokens carry it.
var staffString = regexp.MustCompile(`^[A-Za-z0-9._:@|-]{1,128}$`)

// stringField says whether a string field of this name is shown, and how it is checked.
func stringField(name protoreflect.Name) (*regexp.Regexp, bool) {
	n := string(name)
	switch {
	case strings.HasSuffix(n, "country") || strings.HasSuffix(n, "_mission") || n == "currency":
		return codeString, true
	case n == "staff_id" || n == "assignee" || n == "assignees" || n == "previous_assignee" || n == "closed_by":
		return staffString, true
	}
	return nil, false
}

// historyDetails returns m's coded fields as the package comment above says.
func historyDetails(m protoreflect.Message) []*intakev1.HistoryDetail {
	var out []*intakev1.HistoryDetail
	addDetails(&out, m, "", 0)
	return out
}

func addDetails(out *[]*intakev1.HistoryDetail, m protoreflect.Message, prefix string, depth int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) || fd.IsMap() || fd.Name() == "version" {
			continue
		}
		name, v := prefix+string(fd.Name()), m.Get(fd)
		if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
			if fd.IsList() {
				continue
			}
			if d, ok := dateString(v.Message()); ok {
				*out = append(*out, &intakev1.HistoryDetail{Field: name, Value: d})
			} else if depth < detailDepth {
				addDetails(out, v.Message(), name+".", depth+1)
			}
			continue
		}
		var values []string
		if fd.IsList() {
			l := v.List()
			for j := range l.Len() {
				if s, ok := scalarString(fd, l.Get(j)); ok {
					values = append(values, s)
				}
			}
		} else if s, ok := scalarString(fd, v); ok {
			values = append(values, s)
		}
		if len(values) > 0 {
			*out = append(*out, &intakev1.HistoryDetail{Field: name, Value: strings.Join(values, ",")})
		}
	}
}

// scalarString is one scalar value of fd as a detail shows it, or false when it is not shown.
func scalarString(fd protoreflect.FieldDescriptor, v protoreflect.Value) (string, bool) {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		n := v.Enum()
		if ev := fd.Enum().Values().ByNumber(n); ev != nil {
			return strings.TrimPrefix(string(ev.Name()), enumcode.Prefix(fd.Enum())), true
		}
		return strconv.Itoa(int(n)), true
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool()), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10), true
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), true
	case protoreflect.StringKind:
		if check, ok := stringField(fd.Name()); ok && check.MatchString(v.String()) {
			return v.String(), true
		}
	}
	return "", false
}

// dateString is m as an ISO date ("2025-06-03", "2025-06", "2025") when it is a
// google.type.Date.
func dateString(m protoreflect.Message) (string, bool) {
	d := m.Descriptor()
	if d.FullName() != "google.type.Date" {
		return "", false
	}
	get := func(name protoreflect.Name) int64 { return m.Get(d.Fields().ByName(name)).Int() }
	y, mo, day := get("year"), get("month"), get("day")
	switch {
	case mo == 0:
		return fmt.Sprintf("%04d", y), true
	case day == 0:
		return fmt.Sprintf("%04d-%02d", y, mo), true
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, mo, day), true
}
