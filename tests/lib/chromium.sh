# chromium.sh - a real browser for the end-to-end tests (sourced).
#
#   chr_load URL DIR NAME   Debian's headless Chromium loads URL once: the DOM
#                           as rendered goes to DIR/NAME.dom, a screenshot to
#                           DIR/NAME.png, the browser's log (console messages,
#                           uncaught errors, refused loads) to DIR/NAME.log.
#                           0 when all three exist.
#   chr_console DIR NAME    the page's console lines of that log (script
#                           errors, CSP violations); empty for a clean page
#
# Each load gets its own profile directory under DIR: Chromiums of other
# tests running at the same time share nothing with it.
CHR_BIN=${CHROMIUM:-chromium}

chr_load() {
	local url=$1 dir=$2 name=$3
	rm -f "$dir/$name.dom" "$dir/$name.png" "$dir/$name.log"
	timeout 120 "$CHR_BIN" --headless --disable-gpu --no-sandbox \
		--no-first-run --disable-extensions --disable-sync \
		--user-data-dir="$dir/$name.profile" --window-size=1200,2200 \
		--enable-logging=stderr --screenshot="$dir/$name.png" --dump-dom \
		"$url" > "$dir/$name.dom" 2> "$dir/$name.log" </dev/null
	rm -rf "$dir/$name.profile"
	[ -s "$dir/$name.dom" ] && [ -s "$dir/$name.png" ]
}

chr_console() {
	grep -E ':CONSOLE[:(]|Uncaught|Content Security Policy' "$1/$2.log"
}
