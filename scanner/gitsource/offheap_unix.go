//go:build unix

package gitsource

import (
	"syscall"
	"unsafe"
)

// offHeapWords returns n words of zeroed memory outside the Go heap, and
// what frees it. Memory the garbage collector neither owns nor scans
// does not count towards its goal (twice the live heap): a long-lived,
// pointer-free buffer there costs its own size in RSS, not double. If
// the mapping fails, the words come from the heap.
func offHeapWords(n int) ([]uint64, func()) {
	if n <= 0 {
		return nil, func() {}
	}
	b, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]uint64, n), func() {}
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n), func() { _ = syscall.Munmap(b) }
}

// offHeapBytes is offHeapWords for n bytes.
func offHeapBytes(n int) ([]byte, func()) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, n), func() {}
	}
	return b, func() { _ = syscall.Munmap(b) }
}
