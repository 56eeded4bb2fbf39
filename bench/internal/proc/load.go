package proc

import (
	"os"
	"strings"
)

// LoadAverage is the machine's 1, 5 and 15 minute load averages, as /proc/loadavg says them, or
// "unknown".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
