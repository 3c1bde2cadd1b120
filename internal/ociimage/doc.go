// Package ociimage assembles Passage's OCI images from static binaries, without a container
// engine: one image per command (passage, passage-intake, …) gathered in an OCI image index,
// each of the base layer (the non-root user, the CA certificates, /tmp and the home
// directory) and the command's binary as a layer of its own; passage's image holds every
// command's layer, so that one image runs any service.
//
// The images are reproducible: every file and directory carries the same time (the source
// commit's, SOURCE_DATE_EPOCH), owner and mode whatever the machine, the entries are sorted,
// no build path enters them, and the layers are compressed the same way, so the same binaries
// and CA bundle always give the same digests. deploy/image/ocibuild is the command `make
// image` runs; deploy/image's test unpacks the images and runs them.
package ociimage
