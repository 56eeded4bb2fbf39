// Command custody is the CLI of custody: it crafts, pushes and verifies attestations.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/custody-dev/custody/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Execute(ctx, cli.ProcessEnv(version), os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ERR %v\n", err)
	}
	os.Exit(codeOf(err))
}
