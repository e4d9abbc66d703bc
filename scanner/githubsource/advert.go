package githubsource

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// remoteRefs reads the server's ref advertisement (GET
// info/refs?service=git-upload-pack, protocol v0) in Go: the branches and
// tags a fetch would mirror, with no git process. When they equal what
// the state says was scanned, the repository is unchanged and neither a
// fetch nor a scan is needed, which is what keeps a daily run over an
// unchanged org cheap.
func remoteRefs(ctx context.Context, hc *http.Client, cloneURL, token string) (map[string]string, error) {
	u := strings.TrimSuffix(cloneURL, "/") + "/info/refs?service=git-upload-pack"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("clone URL %q: %w", cloneURL, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token)))
	}
	req.Header.Set("User-Agent", "git/keytrail")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("listing remote refs: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing remote refs: HTTP %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-git-upload-pack-advertisement" {
		return nil, fmt.Errorf("listing remote refs: not a smart HTTP server (%q)", ct)
	}
	return parseAdvert(bufio.NewReader(io.LimitReader(resp.Body, 256<<20)))
}

// parseAdvert parses a v0 upload-pack advertisement: "# service=" pkt,
// flush, then "<id> <ref>[\0caps]" pkts up to a flush.
func parseAdvert(r *bufio.Reader) (map[string]string, error) {
	refs := map[string]string{}
	line, flush, err := readPkt(r)
	if err != nil || flush || !strings.HasPrefix(line, "# service=git-upload-pack") {
		return nil, errors.New("ref advertisement: no service line")
	}
	if _, flush, err = readPkt(r); err != nil || !flush {
		return nil, errors.New("ref advertisement: no flush after the service line")
	}
	for {
		line, flush, err := readPkt(r)
		if err != nil {
			return nil, fmt.Errorf("ref advertisement: %w", err)
		}
		if flush {
			return refs, nil
		}
		if i := strings.IndexByte(line, 0); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSuffix(line, "\n")
		id, name, ok := strings.Cut(line, " ")
		if !ok || !isHexID(id) {
			return nil, fmt.Errorf("ref advertisement: bad line %q", line)
		}
		if strings.HasSuffix(name, "^{}") {
			continue // a peeled tag, or an empty repository's capabilities^{}
		}
		if strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/") {
			refs[name] = id
		}
	}
}

// readPkt reads one pkt-line; flush is true for "0000".
func readPkt(r *bufio.Reader) (string, bool, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", false, err
	}
	n, err := strconv.ParseUint(string(hdr[:]), 16, 16)
	if err != nil {
		return "", false, fmt.Errorf("bad pkt-line length %q", hdr[:])
	}
	if n == 0 {
		return "", true, nil
	}
	if n < 4 {
		return "", false, fmt.Errorf("bad pkt-line length %d", n)
	}
	buf := make([]byte, n-4)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", false, err
	}
	return string(buf), false, nil
}
