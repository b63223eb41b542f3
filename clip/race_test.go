//go:build race

package clip

// raceEnabled: the race detector makes sync.Pool drop items on purpose.
const raceEnabled = true
