package report

import (
	"fmt"
	"io"

	"github.com/keytrail/keytrail/scanner"
)

func writeSARIF(w io.Writer, fs []scanner.Finding, o Options) error {
	return fmt.Errorf("sarif output is not implemented yet")
}
