//! Making untrusted text safe to draw.
//!
//! Everything ecsmon shows that comes from AWS — log lines, service event
//! messages, stop reasons, tags, names — is written by someone else: an
//! application, a container image, a teammate's deploy script, an attacker who
//! got a line into a log. ratatui copies cell contents to the terminal as they
//! are, and the terminal *interprets* control characters and escape sequences
//! in them. Unfiltered, a single log line could retitle the window (`OSC 0`),
//! write the operator's clipboard (`OSC 52`), clear the screen (`CSI 2J`), move
//! the cursor and overwrite other panes, switch the character set (`ESC ( 0`),
//! or reset the terminal (`ESC c`). So every such string goes through this
//! module before it is drawn, and the output never contains a C0 or C1 control
//! character, an ESC, or a bidi control.
//!
//! How each class of input is rendered:
//!
//! | input | output |
//! |---|---|
//! | escape sequences: CSI `ESC [` … final (and 8-bit `U+009B`); OSC `ESC ]` … BEL/ST (`U+009D`); DCS `ESC P`, SOS `ESC X`, PM `ESC ^`, APC `ESC _` … ST (and their 8-bit forms); `ESC` + intermediates + final (`ESC ( 0`, `ESC c`, `ESC 7`) | removed entirely, including any that are unterminated at the end of the input. A string sequence (OSC, DCS, …) also ends at the next `ESC`, as in xterm, so it cannot swallow a later sequence's introducer. |
//! | SGR `ESC [ … m` | removed by [`clean`]; turned into a ratatui [`Style`] by [`styled`] (see [`styled`] for the codes) |
//! | tab | spaces up to the next multiple of [`TAB_WIDTH`] (4) display columns |
//! | `\n`, `\r`, `\r\n`, VT, FF, NEL (`U+0085`), `U+2028`, `U+2029` | one space: a field is one row, a line break never breaks it |
//! | any other C0 control and DEL | caret notation as in `cat -v` and `less`: NUL → `^@`, BEL → `^G`, backspace → `^H`, DEL → `^?` |
//! | any other C1 control (`U+0080`–`U+009F`) | its code in angle brackets as `vim` shows it: `U+0084` → `<84>` |
//! | bidi embeddings, overrides, isolates and marks (`U+202A`–`U+202E`, `U+2066`–`U+2069`, `U+200E`, `U+200F`, `U+061C`) | removed: they reorder what the operator reads (the "Trojan Source" trick) |
//! | invisible zero-width characters `U+200B`, `U+2060`, `U+FEFF` | removed: they make two different strings look equal. ZWJ and ZWNJ (`U+200C`, `U+200D`) stay; emoji and several scripts need them. |
//! | invalid UTF-8 ([`clean_bytes`], [`styled_bytes`]) | `U+FFFD` per invalid sequence |
//!
//! The markers are meant for a human, not for a round trip: a log line that
//! literally contains `^G` looks the same as one that contained BEL.
//!
//! The output is at most [`MAX_GROWTH`] times the input, in bytes per input
//! byte and in display columns per input character, so a hostile line cannot
//! blow up memory or width. Text with none of
//! the characters above (nearly every log line) is returned borrowed, without
//! allocating.

use std::borrow::Cow;
use std::fmt::Write as _;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Tab stops are every this many display columns, counted from the start of the field.
pub const TAB_WIDTH: usize = 4;

/// Output is at most this many times the input: bytes per input byte, display
/// columns per input char (a tab becomes up to 4 spaces, `U+0084` becomes `<84>`).
pub const MAX_GROWTH: usize = 4;

/// Plain text for a single-line cell: no control characters, no escape
/// sequences (SGR included), no bidi controls. Borrowed when nothing needed changing.
pub fn clean(s: &str) -> Cow<'_, str> {
    if find_special(s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = Out::with_capacity(s.len());
    walk(s, &mut out, |_, _| {});
    Cow::Owned(out.buf)
}

/// [`clean`] for raw bytes: invalid UTF-8 becomes `U+FFFD` first.
pub fn clean_bytes(b: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(b) {
        Cow::Borrowed(s) => clean(s),
        Cow::Owned(s) => match clean(&s) {
            Cow::Borrowed(_) => Cow::Owned(s),
            Cow::Owned(cleaned) => Cow::Owned(cleaned),
        },
    }
}

/// A log line as one styled row: the text is exactly [`clean`]'s, and SGR
/// sequences become the spans' [`Style`]s instead of being dropped.
///
/// Styles only ever *add* to the pane's base style (`sub_modifier` stays
/// empty), so `ESC[0m` and `ESC[39m` return to the pane's look, not to the
/// terminal's. Understood: 0 reset; 1 bold, 2 dim, 3 italic, 4 underline
/// (`4:0` off), 21 double underline (drawn as underline), 7 reverse, 9 crossed
/// out and their resets 22/23/24/27/29; foreground 30–37, 90–97, 39 default;
/// background 40–47, 100–107, 49 default; `38`/`48` with `;5;n` or `;2;r;g;b`
/// (also the colon forms `38:5:n`, `38:2:r:g:b`, `38:2:cs:r:g:b`). Ignored on
/// purpose: blink (5, 6) and conceal (8), which would hide or animate text,
/// underline colour (58), fonts and anything unknown or out of range
/// (`ESC[38;5m`, `ESC[38;5;300m`, `ESC[99999999999m`).
///
/// The result borrows `s` when nothing needed changing; no span is empty.
pub fn styled(s: &str) -> Line<'_> {
    if find_special(s).is_none() {
        return if s.is_empty() {
            Line::default()
        } else {
            Line::from(Span::raw(s))
        };
    }
    let mut spans = Vec::new();
    let mut style = Style::default();
    let mut out = Out::with_capacity(s.len());
    walk(s, &mut out, |out, params| {
        let next = apply_sgr(style, params);
        if next != style {
            if !out.buf.is_empty() {
                spans.push(Span::styled(out.take(), style));
            }
            style = next;
        }
    });
    if !out.buf.is_empty() {
        spans.push(Span::styled(out.take(), style));
    }
    Line::from(spans)
}

/// [`styled`] for raw bytes: invalid UTF-8 becomes `U+FFFD` first.
pub fn styled_bytes(b: &[u8]) -> Line<'static> {
    let text = String::from_utf8_lossy(b);
    let line = styled(&text);
    let spans: Vec<Span<'static>> = line
        .spans
        .into_iter()
        .map(|span| Span::styled(span.content.into_owned(), span.style))
        .collect();
    Line::from(spans)
}

/// Whether `c` cannot be copied to the output as it is.
fn is_special(c: char) -> bool {
    matches!(c,
        '\0'..='\x1f' | '\x7f'..='\u{9f}'
        | '\u{061c}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Byte offset of the first special char. Works on bytes: only ASCII controls
/// and chars whose UTF-8 starts with one of four lead bytes can be special.
fn find_special(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    // Skip printable ASCII 16 bytes at a time with a test the compiler vectorises.
    while let Some(chunk) = b.get(from..from + 16) {
        if chunk.iter().any(|&x| !matches!(x, b' '..=b'~')) {
            break;
        }
        from += 16;
    }
    (from..b.len()).find(|&i| match b[i] {
        x if x < 0x20 || x == 0x7f => true,
        // Lead bytes of U+0080–U+00BF, U+0600–U+063F, U+2000–U+2FFF, U+F000–U+FFFF.
        0xc2 | 0xd8 | 0xe2 | 0xef => s[i..].chars().next().is_some_and(is_special),
        _ => false,
    })
}

/// Output under construction, with the display column that tab stops need.
struct Out {
    buf: String,
    /// Display width of everything before `buf[measured..]`, earlier spans included.
    col: usize,
    measured: usize,
}

impl Out {
    fn with_capacity(n: usize) -> Self {
        Out {
            buf: String::with_capacity(n + 16),
            col: 0,
            measured: 0,
        }
    }

    /// Brings `col` up to date; each byte is measured once, so tabs stay O(n).
    fn measure(&mut self) {
        self.col += self.buf[self.measured..].width();
        self.measured = self.buf.len();
    }

    fn tab(&mut self) {
        self.measure();
        let n = TAB_WIDTH - self.col % TAB_WIDTH;
        self.buf.push_str(&"        "[..n]);
    }

    fn take(&mut self) -> String {
        self.measure();
        self.measured = 0;
        std::mem::take(&mut self.buf)
    }
}

/// The state machine: copies plain runs, renders or skips each special char,
/// and hands the parameters of every SGR sequence to `on_sgr`.
fn walk<'a>(s: &'a str, out: &mut Out, mut on_sgr: impl FnMut(&mut Out, &'a str)) {
    let b = s.as_bytes();
    let mut pos = 0;
    while let Some(off) = find_special(&s[pos..]) {
        let i = pos + off;
        out.buf.push_str(&s[pos..i]);
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        let next = i + c.len_utf8();
        let (end, sgr) = match c {
            '\x1b' => match b.get(next) {
                Some(&x @ 0x20..=0x7e) => sequence(s, x, next + 1),
                _ => (next, None), // ESC at the end, or before a control or non-ASCII: dropped
            },
            // 8-bit CSI, DCS, SOS, OSC, PM, APC: same as ESC + (byte - 0x40).
            '\u{9b}' | '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => {
                sequence(s, c as u8 - 0x40, next)
            }
            '\r' if b.get(next) == Some(&b'\n') => {
                out.buf.push(' ');
                (next + 1, None)
            }
            '\n' | '\r' | '\x0b' | '\x0c' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.buf.push(' ');
                (next, None)
            }
            '\t' => {
                out.tab();
                (next, None)
            }
            '\0'..='\x1f' | '\x7f' => {
                out.buf.push('^');
                out.buf.push(char::from(c as u8 ^ 0x40));
                (next, None)
            }
            '\u{80}'..='\u{9f}' => {
                let _ = write!(out.buf, "<{:02x}>", c as u32);
                (next, None)
            }
            _ => (next, None), // bidi and zero-width: dropped
        };
        if let Some(params) = sgr {
            on_sgr(out, params);
        }
        pos = end;
    }
    out.buf.push_str(&s[pos..]);
}

/// Skips the escape sequence whose introducer (the byte after ESC) is `intro`
/// and whose body starts at `j`. Returns where the text resumes and, for SGR,
/// its parameters. Only ASCII is consumed unless a string sequence runs to
/// its terminator, so the returned index is always a char boundary.
fn sequence(s: &str, intro: u8, mut j: usize) -> (usize, Option<&str>) {
    let b = s.as_bytes();
    match intro {
        b'[' => {
            // Parameters and intermediates (0x20–0x3F, in any order), then a final byte.
            let start = j;
            while matches!(b.get(j), Some(0x20..=0x3f)) {
                j += 1;
            }
            let sgr_params = b[start..j]
                .iter()
                .all(|&x| x.is_ascii_digit() || x == b';' || x == b':');
            match b.get(j) {
                Some(b'm') if sgr_params => (j + 1, Some(&s[start..j])),
                Some(0x40..=0x7e) => (j + 1, None),
                _ => (j, None), // unterminated or interrupted: drop what was seen
            }
        }
        b']' | b'P' | b'X' | b'^' | b'_' => (string_end(b, j, intro == b']'), None),
        0x20..=0x2f => {
            // nF: more intermediates, then a final byte (`ESC ( 0`, `ESC # 8`).
            while matches!(b.get(j), Some(0x20..=0x2f)) {
                j += 1;
            }
            (j + usize::from(matches!(b.get(j), Some(0x30..=0x7e))), None)
        }
        _ => (j, None), // two-byte sequence such as `ESC c` or `ESC 7`
    }
}

/// End of a string sequence's body: after BEL (OSC only) or ST (`ESC \` or
/// `U+009C`); at any other ESC, which starts the next sequence; or at the end.
fn string_end(b: &[u8], mut j: usize, bel_ends: bool) -> usize {
    while j < b.len() {
        match b[j] {
            0x07 if bel_ends => return j + 1,
            0x1b => return j + 2 * usize::from(b.get(j + 1) == Some(&b'\\')),
            0xc2 if b.get(j + 1) == Some(&0x9c) => return j + 2,
            _ => j += 1,
        }
    }
    j
}

/// `style` after the SGR sequence with parameters `params` (digits, `;`, `:`).
fn apply_sgr(mut style: Style, params: &str) -> Style {
    let mut params = params.split(';');
    while let Some(param) = params.next() {
        let colon = param.contains(':');
        let mut sub = param.split(':').map(number);
        let code = sub.next().unwrap_or(0);
        // `38;5;n` takes its arguments from the following parameters, `38:5:n` from its own.
        let extended = match (code, colon) {
            (38 | 48 | 58, true) => extended_colour(&mut sub, true),
            (38 | 48 | 58, false) => extended_colour(&mut params.by_ref().map(number), false),
            _ => None,
        };
        let m = style.add_modifier;
        match code {
            0 => style = Style::default(), // back to the pane's style
            1 => style.add_modifier = m | Modifier::BOLD,
            2 => style.add_modifier = m | Modifier::DIM,
            3 => style.add_modifier = m | Modifier::ITALIC,
            4 if sub.next() == Some(0) => style.add_modifier = m - Modifier::UNDERLINED,
            4 | 21 => style.add_modifier = m | Modifier::UNDERLINED,
            7 => style.add_modifier = m | Modifier::REVERSED,
            9 => style.add_modifier = m | Modifier::CROSSED_OUT,
            22 => style.add_modifier = m - (Modifier::BOLD | Modifier::DIM),
            23 => style.add_modifier = m - Modifier::ITALIC,
            24 => style.add_modifier = m - Modifier::UNDERLINED,
            27 => style.add_modifier = m - Modifier::REVERSED,
            29 => style.add_modifier = m - Modifier::CROSSED_OUT,
            30..=37 => style.fg = Some(ANSI[code as usize - 30]),
            90..=97 => style.fg = Some(ANSI[code as usize - 90 + 8]),
            40..=47 => style.bg = Some(ANSI[code as usize - 40]),
            100..=107 => style.bg = Some(ANSI[code as usize - 100 + 8]),
            38 => style.fg = extended.or(style.fg),
            48 => style.bg = extended.or(style.bg),
            39 => style.fg = None,
            49 => style.bg = None,
            _ => {} // 58 underline colour (arguments skipped), blink, conceal, fonts, unknown
        }
    }
    style
}

/// The 16 SGR colours: 30–37 then 90–97 (ratatui calls SGR 37 `Gray` and 97 `White`).
const ANSI: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// The colour after `38`/`48`: `5;n` or `2;r;g;b` (colon form: `2:[cs:]r:g:b`).
/// `None` when it is missing, malformed or out of range.
fn extended_colour(args: &mut impl Iterator<Item = u32>, colon: bool) -> Option<Color> {
    match args.next()? {
        5 => u8::try_from(args.next()?).ok().map(Color::Indexed),
        2 => {
            let mut v = [0; 4];
            let mut n = 0;
            for x in args.take(if colon { 4 } else { 3 }) {
                v[n] = x;
                n += 1;
            }
            let rgb = match n {
                3 => &v[..3],
                4 => &v[1..], // colon form with a colour-space id first
                _ => return None,
            };
            let c = |i: usize| u8::try_from(rgb[i]).ok();
            Some(Color::Rgb(c(0)?, c(1)?, c(2)?))
        }
        _ => None,
    }
}

/// A decimal parameter; empty is 0, and huge values saturate (and so match nothing).
fn number(p: &str) -> u32 {
    p.bytes().filter(u8::is_ascii_digit).fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the output must never contain, stated independently of the implementation.
    fn forbidden(c: char) -> bool {
        c.is_control() // C0, DEL and C1
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
    }

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn fg(s: &str) -> Vec<(String, Option<Color>)> {
        styled(s)
            .spans
            .into_iter()
            .map(|s| (s.content.into_owned(), s.style.fg))
            .collect()
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(clean(""), Cow::Borrowed("")));
        assert!(styled("").spans.is_empty());
        for s in ["GET /health 200 12ms", "héllo wörld 漢字 🚀", "a\u{200d}b"] {
            assert!(matches!(clean(s), Cow::Borrowed(x) if x == s));
            assert!(
                matches!(&styled(s).spans[..], [span] if matches!(span.content, Cow::Borrowed(_)))
            );
        }
        assert!(matches!(clean_bytes(b"plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn osc_title_and_clipboard_are_removed() {
        assert_eq!(clean("a\x1b]0;pwned\x07b"), "ab");
        assert_eq!(clean("a\x1b]2;pwned\x1b\\b"), "ab");
        assert_eq!(clean("a\x1b]52;c;ZWNobyBoaQ==\x07b"), "ab");
        assert_eq!(clean("a\u{9d}2;pwned\u{9c}b"), "ab"); // 8-bit OSC and ST
        assert_eq!(
            clean("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b"),
            "alinkb"
        );
        // A string sequence ends at the next ESC, as in xterm, which is then parsed itself.
        assert_eq!(clean("a\x1b]0;t\x1b[31mred"), "ared");
        assert_eq!(clean("a\x1b]0;never terminated"), "a");
    }

    #[test]
    fn csi_clear_cursor_and_modes_are_removed() {
        assert_eq!(clean("\x1b[2J\x1b[Hx"), "x");
        assert_eq!(clean("a\x1b[10;20Hb\x1b[3Ac\x1b[2Kd"), "abcd");
        assert_eq!(clean("a\x1b[?25l\x1b[?1049hb"), "ab"); // hide cursor, alt screen
        assert_eq!(clean("a\x1b[>4;2mb"), "ab"); // private marker: not SGR
        assert_eq!(clean("a\u{9b}2Jb"), "ab"); // 8-bit CSI
        assert_eq!(clean("a\x1b[1;2"), "a"); // unterminated
        assert_eq!(clean("a\x1b[1\nb"), "a b"); // interrupted by a control
    }

    #[test]
    fn dcs_sos_pm_apc_and_short_escapes_are_removed() {
        assert_eq!(clean("a\x1bP1$r0m\x1b\\b"), "ab");
        assert_eq!(
            clean("a\x1bXsos\x1b\\b\x1b^pm\x1b\\c\x1b_apc\u{9c}d"),
            "abcd"
        );
        assert_eq!(clean("a\u{90}dcs\u{9c}b"), "ab");
        assert_eq!(clean("a\x1bPno BEL end\x07 still dcs"), "a");
        assert_eq!(clean("a\x1bcb\x1b7c\x1b8d\x1bMe\x1b=f"), "abcdef");
        assert_eq!(clean("a\x1b(0b\x1b#8c\x1b%Gd"), "abcd"); // nF: charset, DECALN, UTF-8 mode
    }

    #[test]
    fn stray_escapes_are_dropped() {
        assert_eq!(clean("abc\x1b"), "abc");
        assert_eq!(clean("a\x1b\x1b[31mb"), "ab");
        assert_eq!(clean("a\x1b\u{e9}b"), "a\u{e9}b");
        assert_eq!(clean("a\x1b\x7fb"), "a^?b");
        assert_eq!(clean("a\x1b("), "a");
    }

    #[test]
    fn other_controls_use_caret_or_hex_notation() {
        assert_eq!(clean("ding\x07"), "ding^G");
        assert_eq!(clean("abc\x08\x08\x08xyz"), "abc^H^H^Hxyz");
        assert_eq!(clean("nul\0byte"), "nul^@byte");
        assert_eq!(clean("del\x7f"), "del^?");
        assert_eq!(clean("\x1f\x01"), "^_^A");
        assert_eq!(clean("c1\u{84}\u{9c}"), "c1<84><9c>");
    }

    #[test]
    fn line_breaks_become_one_space() {
        assert_eq!(clean("a\r\nb\nc\rd"), "a b c d");
        assert_eq!(clean("a\n\nb"), "a  b");
        assert_eq!(clean("a\x0bb\x0cc\u{85}d\u{2028}e\u{2029}f"), "a b c d e f");
        assert_eq!(clean("trailing\n"), "trailing ");
    }

    #[test]
    fn tabs_expand_to_multiples_of_four_columns() {
        assert_eq!(clean("\tx"), "    x");
        assert_eq!(clean("ab\tc"), "ab  c");
        assert_eq!(clean("abcd\te"), "abcd    e");
        assert_eq!(clean("漢\tx"), "漢  x"); // wide char counts two columns
        assert_eq!(clean("\x1b[31mab\x1b[0m\tc"), "ab  c"); // escapes take no columns
        assert_eq!(clean("\x07\tx"), "^G  x"); // markers do
        assert_eq!(text(&styled("a\x1b[1mb\x1b[0m\tc")), "ab  c"); // across spans
    }

    #[test]
    fn bidi_and_zero_width_are_removed() {
        assert_eq!(clean("admin\u{202e}gnp.exe"), "admingnp.exe");
        assert_eq!(clean("\u{2066}a\u{2069}\u{202a}b\u{202c}\u{200f}"), "ab");
        assert_eq!(clean("pay\u{200b}pal\u{feff}\u{2060}"), "paypal");
        assert_eq!(clean("👨\u{200d}👩"), "👨\u{200d}👩"); // ZWJ kept
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(clean_bytes(b"ok \xff\xfe done"), "ok \u{fffd}\u{fffd} done");
        assert_eq!(clean_bytes(b"\xe2\x80"), "\u{fffd}");
        assert_eq!(clean_bytes(b"\x1b[31m\xc0red\x1b]0;t\x07"), "\u{fffd}red");
        assert_eq!(text(&styled_bytes(b"\x1b[1mx\xff")), "x\u{fffd}");
    }

    #[test]
    fn sgr_becomes_styles() {
        assert_eq!(
            fg("a\x1b[31mred\x1b[0mb"),
            [
                ("a".into(), None),
                ("red".into(), Some(Color::Red)),
                ("b".into(), None)
            ]
        );
        assert_eq!(
            fg("\x1b[90mx\x1b[97my\x1b[37mz"),
            [
                ("x".into(), Some(Color::DarkGray)),
                ("y".into(), Some(Color::White)),
                ("z".into(), Some(Color::Gray)),
            ]
        );
        let l = styled("\x1b[1;3;4;7;9;41mx\x1b[22;23;24;27;29;49my");
        let all = Modifier::BOLD | Modifier::ITALIC | Modifier::UNDERLINED;
        assert_eq!(
            l.spans[0].style.add_modifier,
            all | Modifier::REVERSED | Modifier::CROSSED_OUT
        );
        assert_eq!(l.spans[0].style.bg, Some(Color::Red));
        assert_eq!(l.spans[1].style, Style::default());
        let l = styled("\x1b[2;104mx\x1b[4:0;4:3my");
        assert_eq!(
            l.spans[0].style,
            Style::default()
                .add_modifier(Modifier::DIM)
                .bg(Color::LightBlue)
        );
        assert_eq!(
            l.spans[1].style.add_modifier,
            Modifier::DIM | Modifier::UNDERLINED
        );
        assert!(l.spans.iter().all(|s| s.style.sub_modifier.is_empty()));
    }

    #[test]
    fn sgr_resets() {
        assert_eq!(
            fg("\x1b[32mg\x1b[mx"),
            [("g".into(), Some(Color::Green)), ("x".into(), None)]
        );
        assert_eq!(
            fg("\x1b[32mg\x1b[39mx"),
            [("g".into(), Some(Color::Green)), ("x".into(), None)]
        );
        let l = styled("\x1b[1;32;44mx\x1b[0;33my");
        assert_eq!(l.spans[1].style, Style::default().fg(Color::Yellow));
        // A sequence that changes nothing does not split the span.
        assert_eq!(styled("a\x1b[0mb\x1b[39;49mc").spans.len(), 1);
    }

    #[test]
    fn sgr_256_and_truecolour() {
        assert_eq!(fg("\x1b[38;5;208mx")[0].1, Some(Color::Indexed(208)));
        assert_eq!(fg("\x1b[38:5:9mx")[0].1, Some(Color::Indexed(9)));
        assert_eq!(
            fg("\x1b[38;2;255;128;0mx")[0].1,
            Some(Color::Rgb(255, 128, 0))
        );
        assert_eq!(fg("\x1b[38:2::1:2:3mx")[0].1, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(fg("\x1b[38:2:1:2:3mx")[0].1, Some(Color::Rgb(1, 2, 3)));
        let l = styled("\x1b[48;5;17;1mx");
        assert_eq!(l.spans[0].style.bg, Some(Color::Indexed(17)));
        assert_eq!(l.spans[0].style.add_modifier, Modifier::BOLD); // parameter after the colour
    }

    #[test]
    fn malformed_sgr_is_ignored() {
        for s in [
            "\x1b[38;5mx",
            "\x1b[38;5;256mx",
            "\x1b[38;2;1;2mx",
            "\x1b[38;2;1;2;999mx",
            "\x1b[38mx",
            "\x1b[38;7mx",
            "\x1b[99999999999mx",
            "\x1b[38;5;99999999999999999999mx",
            "\x1b[5;6;8mx", // blink and conceal: ignored on purpose
            "\x1b[58;5;3mx",
        ] {
            let l = styled(s);
            assert_eq!(text(&l), "x", "{s:?}");
            assert_eq!(l.spans[0].style, Style::default(), "{s:?}");
        }
        assert_eq!(fg("\x1b[38;5;300;31mx")[0].1, Some(Color::Red));
    }

    #[test]
    fn output_stays_within_the_growth_bound() {
        let s = "\u{84}".repeat(1000);
        assert_eq!(clean(&s).len(), 4000);
        assert_eq!(clean(&"\t".repeat(1000)).len(), 4000);
    }

    /// Strings dense in escape-sequence fragments, so the parser's edges get exercised.
    fn hostile() -> impl Strategy<Value = String> {
        let fragments = vec![
            "\x1b",
            "\x1b[",
            "\x1b]",
            "\x1bP",
            "\x1b\\",
            "\x1b(",
            "\u{9b}",
            "\u{9c}",
            "\u{9d}",
            "\u{90}",
            "\x07",
            "\t",
            "\r",
            "\n",
            "\r\n",
            ";",
            ":",
            "m",
            "?",
            "H",
            "38;5;",
            "38;2;",
            "48:2::",
            "0",
            "1",
            "255",
            "99999999999",
            "\u{202e}",
            "\u{2066}",
            "\u{200b}",
            "\x7f",
            "\0",
            "\x08",
            "a",
            "é",
            "漢",
            "🚀",
            "\u{85}",
            "\u{fffd}",
        ];
        let fragment = prop_oneof![
            prop::sample::select(fragments).prop_map(str::to_owned),
            any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(fragment, 0..48).prop_map(|v| v.concat())
    }

    fn check(input_chars: usize, out: &str) -> Result<(), TestCaseError> {
        prop_assert!(!out.chars().any(forbidden), "{out:?}");
        prop_assert!(out.width() <= MAX_GROWTH * input_chars, "{out:?}");
        Ok(())
    }

    proptest! {
        #[test]
        fn clean_output_is_safe_and_bounded(s in prop_oneof![hostile(), any::<String>()]) {
            let out = clean(&s);
            check(s.chars().count(), &out)?;
            prop_assert!(out.len() <= MAX_GROWTH * s.len());
        }

        #[test]
        fn clean_bytes_output_is_safe_and_bounded(b in any::<Vec<u8>>()) {
            let out = clean_bytes(&b);
            check(b.len(), &out)?;
            prop_assert!(out.len() <= MAX_GROWTH * b.len());
        }

        #[test]
        fn clean_bytes_agrees_with_clean(s in hostile()) {
            prop_assert_eq!(clean_bytes(s.as_bytes()), clean(&s));
        }

        #[test]
        fn clean_is_idempotent(s in prop_oneof![hostile(), any::<String>()]) {
            let once = clean(&s);
            let twice = clean(&once);
            prop_assert!(matches!(twice, Cow::Borrowed(_)));
            prop_assert_eq!(&twice, &once);
        }

        #[test]
        fn styled_text_is_clean_text(s in prop_oneof![hostile(), any::<String>()]) {
            let line = styled(&s);
            prop_assert_eq!(text(&line), clean(&s));
            prop_assert!(line.spans.iter().all(|s| !s.content.is_empty() && s.style.sub_modifier.is_empty()));
        }

        #[test]
        fn styled_bytes_text_is_safe(b in any::<Vec<u8>>()) {
            check(b.len(), &text(&styled_bytes(&b)))?;
        }

        #[test]
        fn text_without_controls_passes_through_borrowed(s in any::<String>()) {
            let s: String = s.chars().filter(|&c| !forbidden(c) && !matches!(c, '\u{200b}' | '\u{2028}' | '\u{2029}' | '\u{2060}' | '\u{feff}')).collect();
            prop_assert!(matches!(clean(&s), Cow::Borrowed(x) if x == s));
        }
    }
}
