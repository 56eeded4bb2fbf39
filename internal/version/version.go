// Package version says which custody a binary is: the version stamped at build time with
// -ldflags "-X main.version=...", else the module version Go records in the binary (what
// `go install github.com/custody-dev/custody/cmd/custody@v1.2.3` builds), else "dev".
package version

import "runtime/debug"

// Dev is the version of a binary built from a checkout without a stamped version.
const Dev = "dev"

// Of returns the version of the running binary; stamped is the -ldflags version ("" or Dev when none).
func Of(stamped string) string {
	info, _ := debug.ReadBuildInfo()
	return resolve(stamped, info)
}

func resolve(stamped string, info *debug.BuildInfo) string {
	if stamped != "" && stamped != Dev {
		return stamped
	}
	// "(devel)" is what Go records for a main module built from a checkout without VCS information.
	if info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return Dev
}
