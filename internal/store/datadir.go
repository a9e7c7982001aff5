package store

import "path/filepath"

// EnvDataDir names the data directory that the worker, the starter and the
// demo share; the store is its store/ folder.
const EnvDataDir = "SSOCUTOVER_DATA_DIR"

// DefaultDataDir is relative to the working directory, beside the dev
// server's database that `make dev-server` keeps in .data/temporal.db, so a
// worker, the starter and the demo started from the repository agree.
const DefaultDataDir = ".data"

// subdir is the folder of the data directory that holds the store.
const subdir = "store"

// DataDirFromEnv is the data directory the environment names, or the default.
func DataDirFromEnv(getenv func(string) string) string {
	if d := getenv(EnvDataDir); d != "" {
		return d
	}
	return DefaultDataDir
}

// DirIn is the store's directory inside the data directory dataDir.
func DirIn(dataDir string) string {
	return filepath.Join(dataDir, subdir)
}
