// Command custody is the CLI of custody: it crafts, pushes and verifies attestations.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/custody-dev/custody/cli"
	appversion "github.com/custody-dev/custody/internal/version"
	"github.com/custody-dev/custody/wire"
)

// version is set at build time with -ldflags "-X main.version=..."; without it, custody reports
// the module version Go recorded (go install ...@v1.2.3), else "dev".
var version = appversion.Dev

func main() {
	// The first SIGINT or SIGTERM cancels the command's context: reads and calls in progress stop
	// and the command exits with code 130. A second one gets the default behaviour: exit at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	err := cli.Execute(ctx, cli.ProcessEnv(appversion.Of(version)), os.Args[1:])
	stop()
	if err != nil {
		// A token the user typed in the wrong place is quoted back redacted: CI logs keep this line.
		fmt.Fprintf(os.Stderr, "ERR %s\n", cli.EscapeText(wire.RedactTokens(err.Error())))
	}
	os.Exit(codeOf(err))
}
