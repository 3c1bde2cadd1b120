// Package ociimage assembles Passage's OCI images from static binaries, without a container
// engine: one image per command (passage, passage-intake, …), each of two layers, the base
// (the non-root user, the CA certificates, /tmp and the home directory) and the command's
// binary, gathered in an OCI image index.
//
// The images are reproducible: every file and directory carries the same time (the source
// commit's, SOURCE_DATE_EPOCH), owner and mode whatever the machine, the entries are sorted,
// no build path enters them, and the layers are compressed the same way, so the same binaries
// and CA bundle always give the same digests. deploy/image/ocibuild is the command `make
// image` runs; deploy/image's test unpacks the images and runs them.
package ociimage
