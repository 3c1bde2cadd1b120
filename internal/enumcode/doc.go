// Package enumcode converts protobuf enum values to the codes the services store and back. A
// code is the value's name without its type's prefix ("AVRR" for PROGRAMME_AVRR): readable in
// SQL, and stable, since protobuf value names never change. The prefix is read from the
// enum's descriptor (its _UNSPECIFIED value), so no caller declares it.
package enumcode
