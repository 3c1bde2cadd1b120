// Package docs is about Passage's documentation, README.md and the pages under docs/: its
// tests keep the documents true as the code moves. Every relative link leads to a file that
// exists and, with a #fragment, to a heading there, and every page under docs/ can be
// reached by links from the README, so that a newcomer who reads only the README finds every
// other document (links_test.go).
package docs
