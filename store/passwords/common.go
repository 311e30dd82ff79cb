package passwords

// common.txt is the "passwords" frequency list of the npm package zxcvbn,
// version 4.4.2 (lib/frequency_lists.js), licence MIT: 30,000 passwords
// ranked by frequency in public breach corpora, already lower-case and
// unique. It was extracted by evaluating that file with Node and writing
// frequency_lists.passwords one per line (evaluating rather than scraping
// the text matters: the source escapes quotes, e.g. "pic\'s").
//
// zxcvbn keeps each word in only one of its lists, the one where it ranks
// highest, so some common passwords that are also common names or English
// words (e.g. "michael") are in its other lists and not here.
//
// The zxcvbn licence, which must accompany the data:
//
//	Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc.
//
//	Permission is hereby granted, free of charge, to any person obtaining
//	a copy of this software and associated documentation files (the
//	"Software"), to deal in the Software without restriction, including
//	without limitation the rights to use, copy, modify, merge, publish,
//	distribute, sublicense, and/or sell copies of the Software, and to
//	permit persons to whom the Software is furnished to do so, subject to
//	the following conditions:
//
//	The above copyright notice and this permission notice shall be
//	included in all copies or substantial portions of the Software.
//
//	THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
//	EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
//	MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
//	NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
//	LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
//	OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
//	WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed common.txt
var commonTxt string

// commonSet is built on first use rather than at init so that binaries
// that import this package but never check a password do not pay for a
// 30,000-entry map.
var commonSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(commonTxt, "\n")+1)
	for line := range strings.Lines(commonTxt) {
		// Trim "\r" too so an editor converting line endings cannot
		// silently disable the list.
		if w := strings.TrimRight(line, "\r\n"); w != "" {
			set[w] = struct{}{}
		}
	}
	return set
})

// IsCommon reports whether pw, compared case-insensitively, is on the
// embedded list of common and breached passwords.
func IsCommon(pw string) bool {
	_, ok := commonSet()[strings.ToLower(pw)]
	return ok
}
