package notify

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The message is one JSON object with a "text" field: the one payload that
// both a Slack incoming webhook and a Microsoft Teams (Microsoft 365
// connector) incoming webhook post as it is.
//
// The text is written for both: Slack reads it as mrkdwn, Teams as
// Markdown with limited HTML. Both take *emphasis*, paragraphs split by a
// blank line, and ``` code blocks, which keep the instructions' line breaks
// (Teams joins single lines outside them) and show commands exactly as
// they are, ready to copy. &, < and > are written as HTML entities: Slack
// asks for that (they are its control characters) and Teams, reading
// limited HTML, shows the entities as the characters.

// maxPayloadBytes bounds the JSON body. Teams documents 28 KB per message
// and has been seen refusing less; Slack truncates text past 40,000
// characters. A gate's instructions are a few kilobytes, so only a
// runaway one is cut.
const maxPayloadBytes = 20_000

// maxSummaryRunes bounds the one-line summary so that the instructions
// always have room.
const maxSummaryRunes = 1_000

// message is the webhook's JSON body.
type message struct {
	Text string `json:"text"`
}

// note is what a message says: a headline, a one-line summary, the
// instructions (or details) and the workflow they are about.
type note struct {
	headline, summary, instructions, workflowID string
}

func (g GateOpened) note() note {
	return note{headline: headline(g), summary: g.Summary, instructions: g.Instructions, workflowID: g.WorkflowID}
}

func (a Attention) note() note {
	what := strings.TrimSpace(cmp.Or(a.Workflow, "workflow") + " " + a.IdentityStoreID)
	return note{headline: "ssocutover: " + what + " needs attention", summary: a.Problem, instructions: a.Detail, workflowID: a.WorkflowID}
}

// messagePayload is the JSON body for n: its text, with the instructions
// cut at a line end if the whole would not fit maxPayloadBytes.
func messagePayload(n note) []byte {
	n.summary = clip(strings.ToValidUTF8(n.summary, "?"), maxSummaryRunes)
	instructions := []rune(strings.ToValidUTF8(n.instructions, "?"))
	if full := encodeMessage(messageText(n, string(instructions), false)); len(full) <= maxPayloadBytes {
		return full
	}
	// The longest head of the instructions that fits, found by bisection:
	// escaping and JSON make the size of a cut hard to compute directly.
	fits := func(k int) bool {
		return len(encodeMessage(messageText(n, string(instructions[:k]), true))) <= maxPayloadBytes
	}
	lo, hi := 0, len(instructions)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return encodeMessage(messageText(n, string(instructions[:lineEnd(instructions, lo)]), true))
}

// lineEnd moves a cut at n back to the end of a line, so that no command
// is left half, unless that would lose more than half of what fits.
func lineEnd(text []rune, n int) int {
	for i := n - 1; i > n/2; i-- {
		if text[i] == '\n' {
			return i
		}
	}
	return n
}

// messageText lays the message out: the headline, the summary, the
// instructions in a code block, and the workflow ID.
func messageText(n note, instructions string, cut bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n\n", escape(n.headline))
	if n.summary != "" {
		fmt.Fprintf(&b, "%s\n\n", escape(n.summary))
	}
	if instructions = strings.TrimRight(instructions, "\n"); instructions != "" {
		fmt.Fprintf(&b, "```\n%s\n```\n\n", escape(unfence(instructions)))
	}
	if cut {
		fmt.Fprintf(&b, "(cut; see status: starter status --workflow-id %s)\n\n", escape(n.workflowID))
	}
	fmt.Fprintf(&b, "Workflow ID: `%s`", escape(n.workflowID))
	return b.String()
}

// headline is the first line: which workflow waits at which gate, e.g.
// "ssocutover: SCIM token rotation d-1234567890 waits at gate new-scim-token".
func headline(g GateOpened) string {
	what := strings.TrimSpace(cmp.Or(g.Workflow, "workflow") + " " + g.IdentityStoreID)
	if g.Reminder {
		return fmt.Sprintf("Reminder: ssocutover: %s still waits at gate %s", what, g.Gate)
	}
	return fmt.Sprintf("ssocutover: %s waits at gate %s", what, g.Gate)
}

// slackEscaper writes Slack's three control characters as entities.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return slackEscaper.Replace(s) }

// unfence keeps a ``` inside the instructions from closing their code
// block early; mrkdwn has no escape for a backtick. The fences around the
// commands of a gate's instructions (workflows/gate.CommandsAsCode) go: the
// whole message is a code block already, and the commands keep their lines.
func unfence(s string) string {
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if t := strings.TrimSpace(l); t == "```sh" || t == "```" {
			continue
		}
		kept = append(kept, l)
	}
	return strings.ReplaceAll(strings.Join(kept, "\n"), "```", "'''")
}

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// encodeMessage is the JSON body for text. HTML escaping is off: the
// text's entities are for the chat, and \u003c would only cost size.
func encodeMessage(text string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(message{Text: text}); err != nil { // a struct of one valid UTF-8 string always encodes
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
