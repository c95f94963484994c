//! A message body as people read it: a small Markdown subset (**bold**, *italic* or _italic_,
//! `inline code`, fenced code blocks, > quotes), links made clickable (opening elsewhere, with
//! no referrer and no opener) and mentions of the reader marked. Text stays text: the body is
//! parsed into a tree of plain strings and rendered as DOM nodes, never read as HTML, so no
//! input can inject markup (the tests below try).

use leptos::prelude::*;

/// A run of text within a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Link(String),
    /// `@name` where name is the reader's own username.
    MentionOfMe(String),
    Code(String),
    Bold(Vec<Inline>),
    Italic(Vec<Inline>),
}

/// A block of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Lines of text, their line breaks kept.
    Text(Vec<Inline>),
    /// Lines that began with `>`.
    Quote(Vec<Inline>),
    /// Lines between two lines of three backticks, exactly as written.
    Code(String),
}

/// Splits a body into blocks: fenced code, quotes, and the text between.
pub fn blocks(body: &str, me: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut text: Vec<&str> = Vec::new();
    let mut quote: Vec<&str> = Vec::new();
    let mut lines = body.split('\n').peekable();
    let flush = |out: &mut Vec<Block>, text: &mut Vec<&str>, quote: &mut Vec<&str>| {
        if !text.is_empty() {
            out.push(Block::Text(inlines(&text.join("\n"), me)));
            text.clear();
        }
        if !quote.is_empty() {
            out.push(Block::Quote(inlines(&quote.join("\n"), me)));
            quote.clear();
        }
    };
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("```") {
            // A fence opens only when another closes it; otherwise it is text.
            let rest: Vec<&str> = lines.clone().collect();
            if let Some(end) = rest.iter().position(|l| l.trim() == "```") {
                flush(&mut out, &mut text, &mut quote);
                out.push(Block::Code(rest[..end].join("\n")));
                for _ in 0..=end {
                    lines.next();
                }
                continue;
            }
        }
        if let Some(quoted) = line.strip_prefix('>') {
            if !text.is_empty() {
                flush(&mut out, &mut text, &mut quote);
            }
            quote.push(quoted.strip_prefix(' ').unwrap_or(quoted));
        } else {
            if !quote.is_empty() {
                flush(&mut out, &mut text, &mut quote);
            }
            text.push(line);
        }
    }
    flush(&mut out, &mut text, &mut quote);
    out
}

/// Whether `body` mentions `me` as `@me` (outside code).
pub fn mentions(body: &str, me: &str) -> bool {
    fn any(inlines: &[Inline]) -> bool {
        inlines.iter().any(|i| match i {
            Inline::MentionOfMe(_) => true,
            Inline::Bold(inner) | Inline::Italic(inner) => any(inner),
            _ => false,
        })
    }
    blocks(body, me).iter().any(|b| match b {
        Block::Text(inner) | Block::Quote(inner) => any(inner),
        Block::Code(_) => false,
    })
}

fn at_word_start(before: &str) -> bool {
    before.chars().last().is_none_or(|c| !c.is_alphanumeric())
}

/// The length of the link at the start of `rest`, if one starts there.
fn link_len(rest: &str) -> Option<usize> {
    if !(rest.starts_with("https://") || rest.starts_with("http://")) {
        return None;
    }
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    // Closing punctuation of the sentence, and emphasis markers, are not part of the link.
    let link = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'', '*', '_', '`']);
    (link.len() > "https://".len()).then_some(link.len())
}

/// Where the emphasis opened by `marker` at the start of `rest` closes: the byte offset of the
/// closing marker. It must enclose text that neither starts nor ends with a space and is not
/// only markers, and close at the end of a word (so `snake_case_names` and `2*3*4` stay as
/// they are; the opening is at a word's start, which the caller checks).
fn closing(rest: &str, marker: &str) -> Option<usize> {
    let inner_start = marker.len();
    let after = &rest[inner_start..];
    if after.starts_with(char::is_whitespace) || after.is_empty() {
        return None;
    }
    // Where the first character that is not a marker is: emphasis must enclose it.
    let first_text = after.find(|c: char| c != '*' && c != '_')?;
    let mut from = 0;
    while let Some(found) = after[from..].find(marker) {
        let at = from + found;
        let inner = &after[..at];
        let next = after[at + marker.len()..].chars().next();
        let word_end = next.is_none_or(|c| !c.is_alphanumeric());
        let has_text = first_text < at;
        // `**` inside single-star emphasis belongs to the inner bold.
        let doubled = marker == "*" && after[at..].starts_with("**");
        if has_text && !inner.ends_with(char::is_whitespace) && word_end && !doubled {
            return Some(inner_start + at);
        }
        from = at + marker.len().max(if doubled { 2 } else { 1 });
        if from > after.len() {
            break;
        }
    }
    None
}

/// Parses one block's text into runs.
pub fn inlines(text: &str, me: &str) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    let mention = format!("@{me}");
    while !rest.is_empty() {
        let before = plain.as_str();
        let word_start = at_word_start(before) || out.last().is_some_and(|i| !matches!(i, Inline::Text(_)));
        if word_start && let Some(len) = link_len(rest) {
            push_text(&mut out, &mut plain);
            out.push(Inline::Link(rest[..len].to_owned()));
            rest = &rest[len..];
            continue;
        }
        if rest.starts_with('`')
            && let Some(end) = rest[1..].find('`')
            && end > 0
        {
            push_text(&mut out, &mut plain);
            out.push(Inline::Code(rest[1..1 + end].to_owned()));
            rest = &rest[end + 2..];
            continue;
        }
        let emphasis = match () {
            _ if !word_start => None,
            _ if rest.starts_with("**") => Some("**"),
            _ if rest.starts_with('*') => Some("*"),
            _ if rest.starts_with('_') => Some("_"),
            _ => None,
        };
        if let Some(marker) = emphasis
            && let Some(end) = closing(rest, marker)
        {
            push_text(&mut out, &mut plain);
            let inner = inlines(&rest[marker.len()..end], me);
            out.push(if marker == "**" { Inline::Bold(inner) } else { Inline::Italic(inner) });
            rest = &rest[end + marker.len()..];
            continue;
        }
        if word_start
            && !me.is_empty()
            && rest.len() >= mention.len()
            && rest.is_char_boundary(mention.len())
            && rest[..mention.len()].eq_ignore_ascii_case(&mention)
            && rest[mention.len()..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        {
            push_text(&mut out, &mut plain);
            out.push(Inline::MentionOfMe(rest[..mention.len()].to_owned()));
            rest = &rest[mention.len()..];
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            plain.push(c);
        }
        rest = chars.as_str();
    }
    push_text(&mut out, &mut plain);
    out
}

fn push_text(out: &mut Vec<Inline>, text: &mut String) {
    if !text.is_empty() {
        out.push(Inline::Text(std::mem::take(text)));
    }
}

fn render(inlines: Vec<Inline>) -> AnyView {
    inlines
        .into_iter()
        .map(|inline| match inline {
            Inline::Text(text) => text.into_any(),
            Inline::Link(href) => {
                let text = href.clone();
                view! { <a href=href target="_blank" rel="noopener noreferrer nofollow">{text}</a> }.into_any()
            }
            Inline::MentionOfMe(name) => view! { <mark class="mention">{name}</mark> }.into_any(),
            Inline::Code(code) => view! { <code>{code}</code> }.into_any(),
            Inline::Bold(inner) => view! { <strong>{render(inner)}</strong> }.into_any(),
            Inline::Italic(inner) => view! { <em>{render(inner)}</em> }.into_any(),
        })
        .collect_view()
        .into_any()
}

/// One line of text with its inline Markdown (a reply's excerpt).
#[component]
pub fn InlineText(text: String) -> impl IntoView {
    render(inlines(&text, ""))
}

/// The body, rendered from [`blocks`].
#[component]
pub fn RichText(body: String, me: String) -> impl IntoView {
    blocks(&body, &me)
        .into_iter()
        .map(|block| match block {
            Block::Text(inner) => view! { <span class="text">{render(inner)}</span> }.into_any(),
            Block::Quote(inner) => view! { <blockquote>{render(inner)}</blockquote> }.into_any(),
            Block::Code(code) => view! { <pre class="code"><code>{code}</code></pre> }.into_any(),
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Inline::*;

    fn text(s: &str) -> Inline {
        Text(s.into())
    }

    #[test]
    fn links_and_mentions_are_found_and_nothing_else() {
        assert_eq!(
            inlines("see https://example.org/a?b=1. Thanks @Ada!", "ada"),
            vec![
                text("see "),
                Link("https://example.org/a?b=1".into()),
                text(". Thanks "),
                MentionOfMe("@Ada".into()),
                text("!")
            ]
        );
        assert_eq!(inlines("@adam and mail@ada and <b>x</b>", "ada"), vec![text("@adam and mail@ada and <b>x</b>")]);
        assert_eq!(inlines("javascript:alert(1) http:// (https://x.y)", "ada")[1], Link("https://x.y".into()));
        assert_eq!(inlines("https://x.org/snake_case_path", "ada"), vec![Link("https://x.org/snake_case_path".into())]);
    }

    #[test]
    fn emphasis_and_code() {
        assert_eq!(
            inlines("a **bold** and *it* and _it_ and `co*de*`", "me"),
            vec![
                text("a "),
                Bold(vec![text("bold")]),
                text(" and "),
                Italic(vec![text("it")]),
                text(" and "),
                Italic(vec![text("it")]),
                text(" and "),
                Code("co*de*".into()),
            ]
        );
        assert_eq!(
            inlines("*an **inner** one*", "me"),
            vec![Italic(vec![text("an "), Bold(vec![text("inner")]), text(" one")])]
        );
        assert_eq!(
            inlines("**see https://x.org/a_b**", "me"),
            vec![Bold(vec![text("see "), Link("https://x.org/a_b".into())])]
        );
        // Not emphasis: unclosed, spaced, inside words, lone markers.
        for plain in ["**open", "a * b * c", "snake_case_name", "2*3*4 = 24", "** **", "`", "``"] {
            assert_eq!(inlines(plain, "me"), vec![text(plain)], "{plain}");
        }
    }

    #[test]
    fn blocks_quotes_and_fences() {
        assert_eq!(
            blocks("hello\n> quoted *line*\n> two\nafter\n```\nlet x = **1**;\n<b>\n```\nend", "me"),
            vec![
                Block::Text(vec![text("hello")]),
                Block::Quote(vec![text("quoted "), Italic(vec![text("line")]), text("\ntwo")]),
                Block::Text(vec![text("after")]),
                Block::Code("let x = **1**;\n<b>".into()),
                Block::Text(vec![text("end")]),
            ]
        );
        assert_eq!(blocks("```\nnever closed", "me"), vec![Block::Text(vec![text("```\nnever closed")])]);
    }

    /// Hostile input is text, whatever markers surround it, and no input makes parsing slow or
    /// deep: markers that never close are read once each.
    #[test]
    fn hostile_input_stays_text() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "\"><svg/onload=alert(1)>",
        ] {
            let rendered = format!("{:?}", blocks(&format!("**{attack}** `{attack}` > {attack}\n> {attack}"), "me"));
            assert!(!rendered.contains("Link"), "{attack} made a link: {rendered}");
        }
        assert_eq!(inlines("**<b>hi</b>**", "me"), vec![Bold(vec![text("<b>hi</b>")])]);
        let stars = "*".repeat(4000);
        assert_eq!(inlines(&stars, "me"), vec![text(&stars)]);
        let nested = "*a ".repeat(1000);
        assert_eq!(inlines(&nested, "me").len(), 1);
        assert!(mentions("hi @me", "me") && !mentions("`@me`", "me") && !mentions("```\n@me\n```", "me"));
        assert_eq!(inlines("@ all", ""), vec![text("@ all")], "no reader, no mention");
    }
}
