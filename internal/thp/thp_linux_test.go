package thp

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"strconv"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestReserveHeap checks that heap allocated after ReserveHeap lies in a
// mapping the kernel has marked for huge pages ("hg" in smaps' VmFlags).
func TestReserveHeap(t *testing.T) {
	if mode, err := os.ReadFile(enabledFile); err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skipf("this kernel gives no transparent huge pages: %s %v", mode, err)
	}
	advised, err := reserve(32 << 20)
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel has no transparent huge pages")
	}
	if err != nil {
		t.Fatal(err)
	}
	if advised < 32<<20 {
		t.Fatalf("advised %d bytes, want at least the 32 MiB reserved", advised)
	}
	// The reservation is freed before ReserveHeap returns.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc >= 32<<20 {
		t.Fatalf("%d bytes of heap in use after ReserveHeap: the reservation was kept", ms.HeapAlloc)
	}
	// Fill some of the reserved heap, as a scan would.
	var keep [][]byte
	for range 64 {
		keep = append(keep, make([]byte, 64<<10))
	}
	p := uintptr(unsafe.Pointer(&keep[len(keep)-1][0]))
	flags := vmFlags(t, p)
	if !bytes.Contains(flags, []byte(" hg")) {
		t.Fatalf("heap at %#x: VmFlags%s, want hg (MADV_HUGEPAGE)", p, flags)
	}
}

// Only a process's first call acts.
func TestReserveHeapOnce(t *testing.T) {
	ReserveHeap(1 << 20)
	if again, err := ReserveHeap(1 << 20); again != 0 || err != nil {
		t.Fatalf("second call: %d, %v; want 0, nil (it acts once)", again, err)
	}
}

// vmFlags returns the VmFlags line of the smaps entry holding p.
func vmFlags(t *testing.T, p uintptr) []byte {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	in := false
	for _, line := range bytes.Split(smaps, []byte{'\n'}) {
		if r, _, ok := bytes.Cut(line, []byte{' '}); ok {
			if a, b, ok := bytes.Cut(r, []byte{'-'}); ok {
				l, err1 := strconv.ParseUint(string(a), 16, 64)
				h, err2 := strconv.ParseUint(string(b), 16, 64)
				if err1 == nil && err2 == nil {
					in = uintptr(l) <= p && p < uintptr(h)
					continue
				}
			}
		}
		if f, ok := bytes.CutPrefix(line, []byte("VmFlags:")); ok && in {
			return f
		}
	}
	t.Fatalf("no smaps entry holds %#x", p)
	return nil
}
