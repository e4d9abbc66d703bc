package gitsource

import "unsafe"

// offsetIn returns where b starts in mem, if it does.
func offsetIn(mem, b []byte) (int64, bool) {
	if len(mem) == 0 || cap(b) == 0 {
		return 0, false
	}
	base, p := uintptr(unsafe.Pointer(unsafe.SliceData(mem))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < base || p >= base+uintptr(len(mem)) {
		return 0, false
	}
	return int64(p - base), true
}
