// Command demoaws is the AWS half of `make demo` (internal/demo/awsdemo):
// the demo repository's leaked AWS key audited against an in-process AWS
// emulator seeded to match. It exits 0 when the verdict is critical.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/keytrail/keytrail/internal/demo/awsdemo"
)

func main() {
	repo := flag.String("repo", "testdata/demo-repo", "the demo repository (testdata/demogen)")
	bin := flag.String("bin", "bin/keytrail", "the keytrail binary")
	html := flag.String("html", "testdata/demo-audit.html", "where to write the HTML report")
	flag.Parse()
	risk, err := awsdemo.Run(context.Background(), *repo, *bin, *html, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demoaws:", err)
		os.Exit(2)
	}
	if risk != "critical" {
		fmt.Fprintf(os.Stderr, "demoaws: verdict %q, want critical\n", risk)
		os.Exit(1)
	}
}
