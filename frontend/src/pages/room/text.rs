//! A message body as people read it: links made clickable (opening elsewhere, with no referrer
//! and no opener) and mentions of the reader marked. Text stays text: nothing in a body is ever
//! read as HTML.

use leptos::prelude::*;

/// A run of a message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
    /// `@name` where name is the reader's own username.
    MentionOfMe(String),
}

/// Splits `body` into plain text, `http(s)://` links and the reader's own @mentions.
pub fn segments(body: &str, me: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut text = String::new();
    let mut rest = body;
    while !rest.is_empty() {
        let at_word_start = text.chars().last().is_none_or(|c| !c.is_alphanumeric());
        if at_word_start && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            // Closing punctuation of the sentence is not part of the link.
            let link = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'']);
            if link.len() > "https://".len() {
                flush(&mut out, &mut text);
                out.push(Segment::Link(link.to_owned()));
                rest = &rest[link.len()..];
                continue;
            }
        }
        let mention = format!("@{me}");
        if at_word_start
            && rest.len() >= mention.len()
            && rest.is_char_boundary(mention.len())
            && rest[..mention.len()].eq_ignore_ascii_case(&mention)
            && rest[mention.len()..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        {
            flush(&mut out, &mut text);
            out.push(Segment::MentionOfMe(rest[..mention.len()].to_owned()));
            rest = &rest[mention.len()..];
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            text.push(c);
        }
        rest = chars.as_str();
    }
    flush(&mut out, &mut text);
    out
}

fn flush(out: &mut Vec<Segment>, text: &mut String) {
    if !text.is_empty() {
        out.push(Segment::Text(std::mem::take(text)));
    }
}

/// The body, rendered from [`segments`].
#[component]
pub fn RichText(body: String, me: String) -> impl IntoView {
    segments(&body, &me)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.into_any(),
            Segment::Link(href) => {
                let text = href.clone();
                view! { <a href=href target="_blank" rel="noopener noreferrer nofollow">{text}</a> }.into_any()
            }
            Segment::MentionOfMe(name) => view! { <mark class="mention">{name}</mark> }.into_any(),
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::*;

    #[test]
    fn links_and_mentions_are_found_and_nothing_else() {
        assert_eq!(
            segments("see https://example.org/a?b=1. Thanks @Ada!", "ada"),
            vec![
                Text("see ".into()),
                Link("https://example.org/a?b=1".into()),
                Text(". Thanks ".into()),
                MentionOfMe("@Ada".into()),
                Text("!".into()),
            ]
        );
        assert_eq!(
            segments("@adam and mail@ada and <b>x</b>", "ada"),
            vec![Text("@adam and mail@ada and <b>x</b>".into())]
        );
        assert_eq!(segments("javascript:alert(1) http:// (https://x.y)", "ada")[1], Link("https://x.y".into()));
    }
}
