package main

import (
	"runtime/debug"
	"testing"

	"github.com/engage-etl/engage-etl/internal/config"
)

func TestMemoryLimitGrowsWithTheBytesInFlight(t *testing.T) {
	def := config.Sync{ChunkBytes: config.DefaultChunkBytes, StreamParallelism: config.DefaultStreamParallelism, WindowParallelism: config.DefaultWindowParallelism}
	if got := memoryLimit(def); got != 150<<20 {
		t.Errorf("default settings: %d MiB, want 150", got>>20)
	}
	small := def
	small.ChunkBytes = 1 << 20
	if got := memoryLimit(small); got != 150<<20 {
		t.Errorf("smaller chunks: %d MiB, want the base 150", got>>20)
	}
	big := def
	big.ChunkBytes, big.WindowParallelism = 16<<20, 8
	if got, want := memoryLimit(big), int64(150<<20*4*2); got != want {
		t.Errorf("4× the chunk, 2× the windows: %d MiB, want %d", got>>20, want>>20)
	}
}

func TestGOMEMLIMITIsLeftAlone(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	cfg := &config.Config{Sync: config.Sync{ChunkBytes: config.DefaultChunkBytes, StreamParallelism: 4, WindowParallelism: 4}}
	debug.SetMemoryLimit(1 << 40)
	limitMemory(cfg, func(k string) (string, bool) { return "1TiB", k == "GOMEMLIMIT" })
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("with GOMEMLIMIT set the limit became %d", got)
	}
	limitMemory(cfg, func(string) (string, bool) { return "", false })
	if got := debug.SetMemoryLimit(-1); got != 150<<20 {
		t.Errorf("without GOMEMLIMIT the limit is %d MiB, want 150", got>>20)
	}
}
