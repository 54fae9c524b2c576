package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/executor"
	"github.com/gofab/gofab/internal/outfile"
	"github.com/gofab/gofab/internal/report"
)

// startReport sends the run's events to a temporary file (in the system's
// temporary directory: path may be a device such as /dev/stdout).
func startReport(ex *executor.Executor, path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("report: %s is a directory", path)
	} else if err != nil {
		if _, derr := os.Stat(filepath.Dir(path)); derr != nil {
			return nil, fmt.Errorf("report: %w", derr)
		}
	}
	f, err := os.CreateTemp("", ".gofab-events-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	ex.Printer.SetTap(f)
	return f, nil
}

// finishReport writes the page from the events collected and removes
// them.
func finishReport(events *os.File, path string) error {
	defer os.Remove(events.Name())
	defer events.Close()
	if _, err := events.Seek(0, 0); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return writeReport(events, path)
}

// writeReport builds the page from events and writes it to path (see
// outfile.Write: a regular file atomically, a device or fifo through).
func writeReport(events *os.File, path string) error {
	rep, err := report.Build(events)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := outfile.Write(path, 0o644, rep.Write); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// reportCommand is "gofab report EVENTS -o FILE": the page of a run saved
// with --output json.
func reportCommand(env environ) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write the HTML page of a run saved with --output json (events.jsonl) to -o FILE",
		ArgsUsage: "EVENTS",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "o", Usage: "the page's `FILE`", Required: true}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErr("report takes one EVENTS file (what gofab --output json printed)")
			}
			f, err := os.Open(c.Args().First())
			if err != nil {
				return usageErr("%v", err)
			}
			defer f.Close()
			if err := writeReport(f, c.String("o")); err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
	}
}
