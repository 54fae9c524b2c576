package main

import (
	"errors"

	"regexp"

	"github.com/urfave/cli/v2"

	"github.com/gofab/gofab/internal/compose/recipetest"
	"github.com/gofab/gofab/luart"
)

// testCommand is gofab test: recipe unit tests on fake hosts.
func testCommand(env environ) *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "run the recipes' unit tests (*_test.lua) against fake hosts, without servers",
		ArgsUsage: "[PATH...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "fabfile", Aliases: []string{"f"}, Usage: "fabfile `PATH` the tests run (default: the fabfile.lua nearest each test file)"},
			&cli.StringSliceFlag{Name: "include", Usage: "also look for modules in `DIR`"},
			&cli.StringFlag{Name: "run", Usage: "run only the cases whose name matches `REGEXP`"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "list every case and every command it issued"},
		},
		Action: func(c *cli.Context) error { return testAction(c, env) },
	}
}

func testAction(c *cli.Context, env environ) error {
	cfg, err := readConfig(c)
	if err != nil {
		return err
	}
	f, err := flagsOf[struct {
		Run     string `flag:"run"`
		Verbose bool   `flag:"verbose"`
	}](c)
	if err != nil {
		return err
	}
	o := recipetest.Options{Paths: c.Args().Slice(), Fabfile: cfg.Fabfile, Include: cfg.Include,
		Verbose: f.Verbose, Out: env.stdout, GofabPath: env.getenv("GOFAB_PATH"), Home: env.getenv("HOME"),
		Modules: func(fabfile string) (luart.ModuleFinder, error) { return loadModules(cfg, env, fabfile) }}
	if p := f.Run; p != "" {
		re, err := regexp.Compile(p)
		if err != nil {
			return usageErr("--run: %v", err)
		}
		o.Run = re
	}
	ok, err := recipetest.Run(c.Context, o)
	switch {
	case errors.Is(err, recipetest.ErrNoTests):
		return usageErr("test: %v", err)
	case err != nil && c.Context.Err() != nil:
		return &exitError{code: interruptStatus(c.Context), msg: "interrupted"}
	case err != nil:
		return usageErr("test: %v", err)
	case !ok:
		return &exitError{code: exitFailed}
	}
	return nil
}

// starterTest is the sample test gofab init writes next to the fabfile.
const starterTest = `-- fabfile_test.lua: unit tests for fabfile.lua, run with "gofab test".
-- Each case runs the real task on a fake host: an in-memory file system
-- and scripted command results. Nothing connects anywhere.
local t = require("testing")

t.case("uptime runs uptime", function(h)
  h:respond("uptime", {stdout = " 10:00:00 up 3 days\n"})
  h:run_task("uptime")
  h:assert_ran("uptime")
end)

t.case("motd writes the message once", function(h)
  h:run_task("motd", {"hi"})
  h:assert_file("/tmp/motd-example", {equals = "hi\n"})
  local again = h:run_task("motd", {"hi"})
  h:assert_output("unchanged")
  t.equal(again.changed, 0, "the second run changes nothing")
end)
`

// starterTestFile is where gofab init writes the sample test.
const starterTestFile = "fabfile_test.lua"
