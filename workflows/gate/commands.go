package gate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/platformguide/ssocutover/workflows"
)

// The commands a person runs at a gate are spelled here only, so every gate
// prints them the same way. NAME, WHY and CODEC_URL are placeholders to
// replace.

// StarterCommand is `starter OP --workflow-id ID ARGS...`.
func StarterCommand(op, workflowID string, args ...string) string {
	return strings.Join(append([]string{"starter", op, "--workflow-id", workflowID}, args...), " ")
}

// SignalCommand is the `temporal workflow signal` equivalent of a decision.
// The input is marshalled from GateDecision so its field names cannot drift.
// It goes through the codec server (`starter codec-server`, at CODEC_URL):
// the worker refuses a decision sent as plain JSON.
func SignalCommand(workflowID, op string, d workflows.GateDecision) string {
	input, err := json.Marshal(d)
	if err != nil { // a struct of strings and a bool always marshals
		panic(err)
	}
	return fmt.Sprintf("temporal workflow signal --workflow-id %s --name %s --codec-endpoint CODEC_URL --input '%s'", workflowID, op, input)
}

// A command line in a gate's instructions is a line indented by four spaces
// that starts with one of commandWords; maxCommandWidth is how wide a
// command line may grow before it wraps.
var commandWords = []string{"starter ", "temporal ", "aws "}

const maxCommandWidth = 80

// CommandsAsCode puts every command line of a gate's instructions in a
// fenced code block, exactly as it must be typed. The Temporal UI renders
// instructions as Markdown, where a command in plain text gets its "--"
// turned into a dash and copies wrong; a person at a terminal or in chat
// sees the same fences. A command longer than maxCommandWidth wraps at its
// flags with "\" continuations, so it still copies as one command. Inside
// a numbered step the block is indented by four spaces, so it stays in the
// step.
func CommandsAsCode(instructions string) string {
	var out []string
	inStep, inFence := false, false
	for _, line := range strings.Split(instructions, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence // a block already fenced stays as it is
		}
		if inFence || strings.HasPrefix(strings.TrimSpace(line), "```") {
			out = append(out, line)
			continue
		}
		switch {
		case isNumberedStep(line):
			inStep = true
		case line != "" && !strings.HasPrefix(line, " "):
			inStep = false
		}
		command, indented := strings.CutPrefix(line, "    ")
		if !indented || !isCommand(command) {
			out = append(out, line)
			continue
		}
		indent := ""
		if inStep {
			// Four spaces keep the block in its step for the Temporal UI's
			// Markdown renderer too, which ends the list at a block
			// indented by three (CommonMark accepts either).
			indent = "    "
		}
		out = append(out, indent+"```sh")
		for _, l := range wrapCommand(command, maxCommandWidth) {
			out = append(out, indent+l)
		}
		out = append(out, indent+"```")
	}
	return strings.Join(out, "\n")
}

func isCommand(s string) bool {
	for _, w := range commandWords {
		if strings.HasPrefix(s, w) {
			return true
		}
	}
	return false
}

// isNumberedStep reports whether line starts a numbered step ("2. ...").
func isNumberedStep(line string) bool {
	digits := len(line) - len(strings.TrimLeft(line, "0123456789"))
	return digits > 0 && strings.HasPrefix(line[digits:], ". ")
}

// wrapCommand breaks command into lines of at most width (a single word
// longer than that stays whole), between words and never between a flag
// and its value, each line but the last ending in " \" and each but the
// first indented by two spaces: a shell reads them as the one command.
func wrapCommand(command string, width int) []string {
	if len(command) <= width {
		return []string{command}
	}
	var lines []string
	line := ""
	for _, part := range commandParts(command) {
		switch {
		case line == "":
			line = part
		case len(line)+1+len(part)+2 > width: // room for " \"
			lines = append(lines, line+" \\")
			line = "  " + part
		default:
			line += " " + part
		}
	}
	return append(lines, line)
}

// commandParts splits command at spaces outside single quotes, keeping a
// flag and its value ("--gate preflight") together.
func commandParts(command string) []string {
	var words []string
	word, quoted := "", false
	for _, r := range command {
		switch {
		case r == '\'':
			quoted = !quoted
			word += string(r)
		case r == ' ' && !quoted:
			if word != "" {
				words = append(words, word)
			}
			word = ""
		default:
			word += string(r)
		}
	}
	if word != "" {
		words = append(words, word)
	}
	var parts []string
	for i := 0; i < len(words); i++ {
		if strings.HasPrefix(words[i], "-") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") {
			parts = append(parts, words[i]+" "+words[i+1])
			i++
			continue
		}
		parts = append(parts, words[i])
	}
	return parts
}

// CommandsIn is the commands of instructions that CommandsAsCode fenced, each
// on one line again, as a shell reads a wrapped one: what a person who
// copies a block runs.
func CommandsIn(instructions string) []string {
	var commands []string
	inBlock := false
	command := ""
	for _, line := range strings.Split(instructions, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "```sh":
			inBlock = true
		case line == "```" && inBlock:
			inBlock = false
		case inBlock:
			part, continued := strings.CutSuffix(line, " \\")
			command += part
			if continued {
				command += " "
				continue
			}
			commands = append(commands, command)
			command = ""
		}
	}
	return commands
}
