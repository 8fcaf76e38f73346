//go:build !race

package orgsync

const raceEnabled = false
