// Command keytrail finds leaked credentials in code, history and logs.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/keytrail/keytrail/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := cpuProfile(os.Getenv("KEYTRAIL_CPUPROFILE"), os.Stderr)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// cpuProfile writes a CPU profile of the run to path, when set: for
// profiling, and for the profile the build is optimised with
// (scripts/pgo.sh writes cmd/keytrail/default.pgo from such profiles).
func cpuProfile(path string, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "keytrail: KEYTRAIL_CPUPROFILE=%s: %v\n", path, err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "keytrail: KEYTRAIL_CPUPROFILE=%s: %v\n", path, err)
		}
	}
}
