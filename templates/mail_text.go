package templates

import "strings"

// MailText is the plain-text body of m, for mail programs that show no
// HTML; it says the same as MailHTML, links written out in full.
func MailText(m Mail) string {
	var b strings.Builder
	b.WriteString(m.Heading + "\n\n" + m.Intro + "\n\n")
	if len(m.Facts) > 0 {
		width := 0
		for _, f := range m.Facts {
			width = max(width, len(f.Label))
		}
		for _, f := range m.Facts {
			b.WriteString("  " + f.Label + ":" + strings.Repeat(" ", width-len(f.Label)+1) + f.Value + "\n")
		}
		b.WriteString("\n")
	}
	for _, a := range m.Advice {
		b.WriteString(a + "\n\n")
	}
	if m.Action != nil {
		b.WriteString(m.Action.Label + ":\n" + m.Action.URL + "\n")
		if m.Action.Note != "" {
			b.WriteString(m.Action.Note + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("-- \n" + m.Footer)
	if m.Account != "" {
		b.WriteString("\nManage alerts and devices: " + m.Account)
	}
	b.WriteString("\n")
	return b.String()
}
