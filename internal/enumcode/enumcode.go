package enumcode

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Enum is a generated protobuf enum type, such as commonv1.Sex.
type Enum interface {
	~int32
	protoreflect.Enum
	String() string
}

// Prefix is the prefix every value name of the enum d shares: its zero value's name without
// UNSPECIFIED ("PROGRAMME_" for PROGRAMME_UNSPECIFIED), as buf's STANDARD lint requires of
// every enum.
func Prefix(d protoreflect.EnumDescriptor) string {
	return strings.TrimSuffix(string(d.Values().ByNumber(0).Name()), "UNSPECIFIED")
}

// Code is the stored code of e: its name without its enum's prefix.
func Code[T Enum](e T) string {
	return strings.TrimPrefix(e.String(), Prefix(e.Descriptor()))
}

// Codes is the code of each value, in order. It is never nil, so that an empty list is stored
// as an empty array rather than NULL.
func Codes[T Enum](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = Code(v)
	}
	return out
}

// Value is the enum value stored as c: the zero value, _UNSPECIFIED, for a code it does not
// know.
func Value[T Enum](c string) T {
	var zero T
	d := zero.Descriptor()
	if v := d.Values().ByName(protoreflect.Name(Prefix(d) + c)); v != nil {
		return T(v.Number())
	}
	return zero
}

// Values is the enum value of each code, in order; nil for nil, so that a NULL column reads
// as an absent list.
func Values[T Enum](cs []string) []T {
	if cs == nil {
		return nil
	}
	out := make([]T, len(cs))
	for i, c := range cs {
		out[i] = Value[T](c)
	}
	return out
}
