// Package docs holds the tests of Passage's documentation: README.md and the pages under
// docs/. They keep the documents honest as the code moves: every relative link leads to a
// file that exists and, with a #fragment, to a heading that exists there, and every page
// under docs/ can be reached from the README, so that a newcomer who reads only the README
// finds every other document. The package has no code of its own outside its tests.
package docs
