//go:build race

package orgsync

// raceEnabled is true under the race detector, which makes the randomized
// tests shorten their runs.
const raceEnabled = true
