//go:build !unix

package main

import "time"

// processCPU is not measured off Unix; the CPU-per-request column then reads 0.
func processCPU() time.Duration { return 0 }
