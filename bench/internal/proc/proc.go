// Package proc times whole processes from outside, for the benchmarks: wall time and peak RSS.
package proc

import (
	"fmt"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

// Sample is one run of a process.
type Sample struct {
	Wall   time.Duration
	MaxRSS int64 // KiB
	Output []byte
}

// Measure runs bin with args in dir and returns its wall time, peak RSS and combined output. A
// non-zero exit is an error unless allowFail.
func Measure(dir string, allowFail bool, bin string, args ...string) (Sample, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil && (!allowFail || cmd.ProcessState == nil) {
		return Sample{}, fmt.Errorf("%s %v: %v\n%s", bin, args, err, out)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return Sample{Wall: wall, MaxRSS: rss, Output: out}, nil
}

// Median is the sample of median wall time.
func Median(s []Sample) Sample {
	c := append([]Sample(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i].Wall < c[j].Wall })
	return c[len(c)/2]
}
