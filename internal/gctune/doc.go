// Package gctune keeps the garbage collector's headroom bounded in bytes, not only as a
// share of the live heap.
//
// A Passage server that runs the write services alone keeps a small live heap and makes a
// great deal of short-lived garbage; collecting at five times the live heap (GOGC 400) rather
// than twice costs it a tenth less CPU for a few tens of megabytes. The analytics service
// holds its in-memory copy of the rollup, 0.8 GB at ten million persons: at GOGC 400 its
// heap grew to 4 GB between collections, every byte of it resident. Start therefore sets the
// GC percentage after each collection from the live heap: as high as the maximum while the
// headroom it gives stays within a budget, lower as the live heap grows, never below the
// minimum (at ten million persons: 100, a 1.6 GB heap, for a mark phase of a few
// milliseconds, the copy being pointer-free columns).
package gctune
