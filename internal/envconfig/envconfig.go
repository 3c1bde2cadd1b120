package envconfig

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Var documents one variable: its name, its default as written in the tag and its meaning.
type Var struct {
	Name    string
	Default string
	Help    string
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Parse sets the tagged fields of the struct dst points to from lookup (os.LookupEnv in a
// process, a map in tests). An error names the variable and what it wants; it never carries
// the value.
func Parse(dst any, lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return errors.New("envconfig: Parse wants a pointer to a struct")
	}
	return walk(v.Elem(), func(f reflect.Value, sf reflect.StructField, name string) error {
		s, ok := lookup(name)
		if !ok || s == "" {
			s = sf.Tag.Get("default")
		}
		if s == "" {
			return nil
		}
		if err := set(f, s); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
}

// Defaults sets the tagged fields of the struct dst points to from their default tags alone,
// as Parse does when no variable is set: a package's defaults, written once in its tags.
func Defaults(dst any) error {
	return Parse(dst, func(string) (string, bool) { return "", false })
}

// Vars lists the variables of the struct v (or of the struct it points to), in field order.
func Vars(v any) []Var {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	var out []Var
	if rv.Kind() != reflect.Struct {
		return nil
	}
	_ = walk(rv, func(_ reflect.Value, sf reflect.StructField, name string) error {
		out = append(out, Var{Name: name, Default: sf.Tag.Get("default"), Help: sf.Tag.Get("help")})
		return nil
	})
	return out
}

// walk calls fn for each tagged field of the struct v, walking into untagged struct fields.
func walk(v reflect.Value, fn func(reflect.Value, reflect.StructField, string) error) error {
	return walkPrefixed(v, "", "", fn)
}

// walkPrefixed is walk inside a struct field tagged envprefix: each variable's name is
// prefix followed by its own env tag, and lead (the struct field's help) is put before its help.
func walkPrefixed(v reflect.Value, prefix, lead string, fn func(reflect.Value, reflect.StructField, string) error) error {
	t := v.Type()
	for i := range t.NumField() {
		sf, f := t.Field(i), v.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, ok := sf.Tag.Lookup("env")
		if !ok {
			if sf.Type.Kind() == reflect.Struct {
				p, l := prefix, lead
				if more, ok := sf.Tag.Lookup("envprefix"); ok {
					p, l = prefix+more, joinHelp(lead, sf.Tag.Get("help"))
				}
				if err := walkPrefixed(f, p, l, fn); err != nil {
					return err
				}
			}
			continue
		}
		if prefix != "" || lead != "" {
			sf.Tag = reflect.StructTag(fmt.Sprintf(`default:%q help:%q`, sf.Tag.Get("default"),
				joinHelp(lead, strings.ReplaceAll(sf.Tag.Get("help"), "{*", "{"+prefix))))
		}
		if err := fn(f, sf, prefix+name); err != nil {
			return err
		}
	}
	return nil
}

// joinHelp puts a prefixed struct's lead before a field's help: "gRPC: the certificate".
func joinHelp(lead, help string) string {
	switch {
	case lead == "":
		return help
	case help == "":
		return lead
	}
	return lead + ": " + help
}

// Reason is the error a TextUnmarshaler of this module returns to say what it wants, such as
// "want RATE:BURST, e.g. 100:200": Parse shows it after the variable's name. It must never
// repeat the value. Any other error of UnmarshalText shows as "not a valid value".
type Reason string

func (r Reason) Error() string { return string(r) }

// Switch is a setting spelt "on" or "off".
type Switch bool

// UnmarshalText reads "on" or "off".
func (s *Switch) UnmarshalText(b []byte) error {
	switch string(b) {
	case "on":
		*s = true
	case "off":
		*s = false
	default:
		return Reason("want on or off")
	}
	return nil
}

// set parses s into f according to f's type.
func set(f reflect.Value, s string) error {
	if f.CanAddr() && f.Addr().Type().Implements(unmarshalerType) {
		err := f.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		var reason Reason
		switch {
		case err == nil:
			return nil
		case errors.As(err, &reason):
			return reason
		}
		// Another package's error may repeat the value (slog.Level's does).
		return errors.New("not a valid value")
	}
	if f.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("want a Go duration such as 30s or 5m")
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("want true or false (1 or 0)")
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a whole number of %d bits", f.Type().Bits())
		}
		f.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errors.New("want a number")
		}
		f.SetFloat(x)
	default:
		return fmt.Errorf("envconfig cannot read a %s", f.Type())
	}
	return nil
}

// A struct tag cannot hold a backquote, so help text marks code with braces: {off}. Markdown
// shows it as code, Help as plain text.
var (
	code  = strings.NewReplacer("{", "`", "}", "`")
	plain = strings.NewReplacer("{", "", "}", "")
)

// Markdown renders vars as a markdown table with the columns variable, default and meaning.
// A missing default shows as an em dash; {x} in the help shows as code.
func Markdown(vars []Var) string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n| --- | --- | --- |\n")
	for _, v := range vars {
		def := "—"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, code.Replace(v.Help))
	}
	return b.String()
}

// Help renders vars for a command's -h: one variable a line with its default, then its
// meaning indented beneath, without markdown's backquotes.
func Help(vars []Var) string {
	var b strings.Builder
	for _, v := range vars {
		b.WriteString("  " + v.Name)
		if v.Default != "" {
			b.WriteString(" (default " + v.Default + ")")
		}
		b.WriteString("\n    \t" + plain.Replace(v.Help) + "\n")
	}
	return b.String()
}

// ReplaceBetween returns doc with the text between the line begin and the line end replaced
// by body, the marker lines kept; an error when either marker is missing.
func ReplaceBetween(doc, begin, end, body string) (string, error) {
	i := strings.Index(doc, begin+"\n")
	if i < 0 {
		return "", fmt.Errorf("envconfig: marker %q not found", begin)
	}
	start := i + len(begin) + 1
	j := strings.Index(doc[start:], end)
	if j < 0 {
		return "", fmt.Errorf("envconfig: marker %q not found after %q", end, begin)
	}
	return doc[:start] + body + doc[start+j:], nil
}
