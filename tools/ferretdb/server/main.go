// Command ferretdb-server runs FerretDB v1.24.2 through its embeddable package.
//
// A binary made by `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` panics at
// start-up because the module zip lacks the generated build/version/version.txt. The embeddable
// package skips that check. tools/ferretdb/build.ts builds this program against a patched copy
// of the FerretDB module, and tools/ferretdb/launch.ts runs it for the tests and the demo.
//
// It accepts the subset of the ferretdb flags the launcher passes. Flags it has no use for
// (telemetry, debug listener, state directory) are accepted and ignored, since the embedded
// server has no telemetry reporter and no debug HTTP listener.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretDBModule is the module path whose version and replacement --version prints.
const ferretDBModule = "github.com/FerretDB/FerretDB"

func main() {
	handler := flag.String("handler", "sqlite", "backend handler: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI (directory) for the sqlite handler")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL for the postgresql handler")
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	version := flag.Bool("version", false, "print the FerretDB module version and exit")
	flag.String("telemetry", "disable", "ignored: the embedded server sends no telemetry")
	flag.String("debug-addr", "-", "ignored: the embedded server has no debug HTTP listener")
	flag.String("state-dir", "-", "ignored: the embedded server keeps no state file")
	flag.Parse()

	if *version {
		fmt.Println(versionLine())
		return
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: invalid --log-level %q: %s\n", *logLevel, err)
		os.Exit(2)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listenAddr},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     *sqliteURL,
		PostgreSQLURL: *postgresqlURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %s\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "ferretdb-server: listening on %s\n", *listenAddr)

	if err := server.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %s\n", err)
		os.Exit(1)
	}
}

// versionLine returns the --version output: the version of the FerretDB module linked into the
// binary, and the local copy that replaced it in go.mod or go.work, if any.
func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "ferretdb-server: build information missing"
	}

	for _, dependency := range info.Deps {
		if dependency.Path != ferretDBModule {
			continue
		}

		if dependency.Replace != nil {
			return fmt.Sprintf("ferretdb-server: FerretDB %s, replaced by %s", dependency.Version, dependency.Replace.Path)
		}

		return fmt.Sprintf("ferretdb-server: FerretDB %s", dependency.Version)
	}

	return "ferretdb-server: " + ferretDBModule + " missing from the build information"
}
