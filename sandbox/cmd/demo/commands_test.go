package main

// Commands as people copy them from the demo, the status and the Temporal
// UI: split as a shell would, and parsed by the starter's own command tree.

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/platformguide/ssocutover/starter/cli"
)

// shellCommandWords splits command into the words a POSIX shell would pass its
// program; a command substitution ("$(jq ...)") stands for one word.
func shellCommandWords(command string) ([]string, error) {
	file, err := syntax.NewParser().Parse(strings.NewReader(command), "")
	if err != nil {
		return nil, err
	}
	if len(file.Stmts) != 1 {
		return nil, fmt.Errorf("%d commands where one belongs", len(file.Stmts))
	}
	call, ok := file.Stmts[0].Cmd.(*syntax.CallExpr)
	if !ok {
		return nil, errors.New("not a simple command")
	}
	cfg := &expand.Config{
		Env: expand.ListEnviron(),
		CmdSubst: func(w io.Writer, _ *syntax.CmdSubst) error {
			_, err := io.WriteString(w, "OUTPUT")
			return err
		},
	}
	return expand.Fields(cfg, call.Args...)
}

// checkStarter parses args with the starter's command tree: the command
// exists, its flags are known, and it takes the arguments left.
func checkStarter(args []string) error {
	root := cli.NewRootCommand(io.Discard, io.Discard, func(string) string { return "" })
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root {
		return fmt.Errorf("no starter command %q", args[0])
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	return cmd.ValidateArgs(cmd.Flags().Args())
}
