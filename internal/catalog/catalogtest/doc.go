// Package catalogtest makes catalog inputs for the tests and benchmarks of
// the packages that map and serve them. It is for tests only.
//
// It must not be imported by non-test code.
package catalogtest
