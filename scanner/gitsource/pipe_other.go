//go:build !linux

package gitsource

// growPipe leaves the pipe as it is where its size cannot be set.
func growPipe(any) {}

func pipeCap(any) int { return 0 }
