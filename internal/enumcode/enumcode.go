package enumcode

import "strings"

// Code is the stored code of e: its name without prefix.
func Code(e interface{ String() string }, prefix string) string {
	return strings.TrimPrefix(e.String(), prefix)
}

// Codes is the code of each value, in order. It is never nil, so that an empty list is stored
// as an empty array rather than NULL.
func Codes[T interface{ String() string }](vs []T, prefix string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = Code(v, prefix)
	}
	return out
}

// Value is the enum value stored as c, looked up in values (the generated <Enum>_value map):
// the zero value, _UNSPECIFIED, for a code it does not know.
func Value[T ~int32](values map[string]int32, prefix, c string) T {
	return T(values[prefix+c])
}

// Values is the enum value of each code, in order; nil for nil, so that a NULL column reads
// as an absent list.
func Values[T ~int32](values map[string]int32, prefix string, cs []string) []T {
	if cs == nil {
		return nil
	}
	out := make([]T, len(cs))
	for i, c := range cs {
		out[i] = Value[T](values, prefix, c)
	}
	return out
}
