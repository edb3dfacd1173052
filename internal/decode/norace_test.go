//go:build !race

package decode_test

// slowdown is how much slower code runs under the race detector, for the
// tests that bound how long a decode takes.
const slowdown = 1
