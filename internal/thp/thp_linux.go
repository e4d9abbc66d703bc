package thp

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// enabledFile says when the kernel backs memory with huge pages:
// "[always]", "[madvise]" (on request) or "[never]".
const enabledFile = "/sys/kernel/mm/transparent_hugepage/enabled"

func reserve(n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	mode, err := os.ReadFile(enabledFile)
	if err != nil {
		return 0, fmt.Errorf("transparent huge pages: %w", err)
	}
	if bytes.Contains(mode, []byte("[never]")) {
		return 0, fmt.Errorf("transparent huge pages are off (%s: %s)", enabledFile, bytes.TrimSpace(mode))
	}
	return advise(make([]byte, n))
}

// advise advises the mapping that holds b, then frees b. A collection
// already running when b was allocated would keep it as live until the
// next one, and set the heap goal from it: the heap then grew past 170 MB
// before that next collection, in ordinary pages outside the advised
// mapping. So b is collected at once, whatever happens here.
func advise(b []byte) (int, error) {
	defer runtime.GC()
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo, hi, err := mapping(p)
	if err != nil {
		return 0, err
	}
	// The mapping is the heap's own, alive for the whole process: the
	// advice stays on it after b is collected.
	// (A raw call: the range is the mapping's, not a Go object's.)
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_HUGEPAGE); errno != 0 {
		return 0, fmt.Errorf("madvise(MADV_HUGEPAGE): %w", errno)
	}
	runtime.KeepAlive(b)
	return int(hi - lo), nil
}

// mapping returns the bounds of the mapping holding address p, from
// /proc/self/maps.
func mapping(p uintptr) (lo, hi uintptr, err error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range bytes.Split(maps, []byte{'\n'}) {
		r, _, _ := bytes.Cut(line, []byte{' '})
		a, b, ok := bytes.Cut(r, []byte{'-'})
		if !ok {
			continue
		}
		l, err1 := strconv.ParseUint(string(a), 16, 64)
		h, err2 := strconv.ParseUint(string(b), 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if uintptr(l) <= p && p < uintptr(h) {
			return uintptr(l), uintptr(h), nil
		}
	}
	return 0, 0, fmt.Errorf("no mapping holds the heap address %#x in /proc/self/maps", p)
}
