//! Which files may be attached to messages (SPEC R-MSG-6): a size limit, a short list of types,
//! and bytes that really are of the type they claim (checked by their signature), so that a
//! download never hands a browser something else than it says.

use std::fmt;

/// The default largest attachment: 10 MiB.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// The file types Conclave stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentType {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    /// UTF-8 text without NUL bytes.
    Text,
}

impl AttachmentType {
    pub const ALL: [AttachmentType; 6] = [Self::Png, Self::Jpeg, Self::Gif, Self::Webp, Self::Pdf, Self::Text];

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Text => "text/plain",
        }
    }

    /// The type a `Content-Type` header names (parameters such as `charset` aside).
    pub fn from_content_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|t| t.content_type() == essence)
    }

    /// Whether `bytes` are what this type says.
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Self::Text => !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok(),
            binary => infer::get(bytes).is_some_and(|found| found.mime_type() == binary.content_type()),
        }
    }
}

impl fmt::Display for AttachmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.content_type())
    }
}

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {}", conclave_protocol::size_label(u64::try_from(*max).unwrap_or(u64::MAX)))]
    TooLarge { max: usize },
    #[error("files of type {0:?} cannot be attached (allowed: PNG, JPEG, GIF and WebP images, PDF, plain text)")]
    UnsupportedType(String),
    #[error("the file's content is not {0}")]
    ContentMismatch(AttachmentType),
    #[error("{0}")]
    Filename(&'static str),
}

/// An attachment's file name as shown to people: 1–255 characters, no path, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filename(String);

impl Filename {
    pub fn parse(input: &str) -> Result<Self, UploadRefusal> {
        let name = input.trim();
        if name.is_empty() {
            return Err(UploadRefusal::Filename("give the file a name"));
        }
        if name.chars().count() > 255 {
            return Err(UploadRefusal::Filename("file names are at most 255 characters"));
        }
        if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') || name == "." || name == ".." {
            return Err(UploadRefusal::Filename("a file name has no path and no control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Accepts an upload of `bytes` declared as `content_type`, at most `max` bytes.
pub fn accept_upload(content_type: &str, bytes: &[u8], max: usize) -> Result<AttachmentType, UploadRefusal> {
    if bytes.is_empty() {
        return Err(UploadRefusal::Empty);
    }
    if bytes.len() > max {
        return Err(UploadRefusal::TooLarge { max });
    }
    let kind = AttachmentType::from_content_type(content_type)
        .ok_or_else(|| UploadRefusal::UnsupportedType(content_type.chars().take(100).collect()))?;
    if !kind.matches(bytes) {
        return Err(UploadRefusal::ContentMismatch(kind));
    }
    Ok(kind)
}

/// Whether a member of an attachment's room may download it: anyone once it was sent with a
/// message; before that only its uploader, to whom an unsent upload is a draft (R-MSG-6).
pub fn may_download(sent: bool, is_uploader: bool) -> bool {
    sent || is_uploader
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";

    /// R-MSG-6: the allowed types, checked against their bytes; size limits; names.
    #[test]
    fn r_msg_6_uploads() {
        assert_eq!(accept_upload("image/png", PNG, 1024), Ok(AttachmentType::Png));
        assert_eq!(accept_upload("IMAGE/PNG; foo=bar", PNG, 1024), Ok(AttachmentType::Png));
        assert_eq!(accept_upload("application/pdf", PDF, 1024), Ok(AttachmentType::Pdf));
        assert_eq!(accept_upload("text/plain; charset=utf-8", "héllo\n".as_bytes(), 1024), Ok(AttachmentType::Text));
        assert_eq!(accept_upload("image/png", b"", 1024), Err(UploadRefusal::Empty));
        assert_eq!(accept_upload("image/png", PNG, 10), Err(UploadRefusal::TooLarge { max: 10 }));
        assert!(matches!(accept_upload("text/html", b"<script>", 1024), Err(UploadRefusal::UnsupportedType(_))));
        assert!(matches!(accept_upload("image/svg+xml", b"<svg/>", 1024), Err(UploadRefusal::UnsupportedType(_))));
        assert_eq!(
            accept_upload("image/png", PDF, 1024),
            Err(UploadRefusal::ContentMismatch(AttachmentType::Png)),
            "a PDF called a PNG"
        );
        assert_eq!(accept_upload("image/jpeg", PNG, 1024), Err(UploadRefusal::ContentMismatch(AttachmentType::Jpeg)));
        assert_eq!(
            accept_upload("text/plain", b"a\0b", 1024),
            Err(UploadRefusal::ContentMismatch(AttachmentType::Text))
        );
        assert_eq!(
            accept_upload("text/plain", b"\xff\xfe", 1024),
            Err(UploadRefusal::ContentMismatch(AttachmentType::Text))
        );

        assert_eq!(Filename::parse("  report 2026.pdf ").map(Filename::into_string), Ok("report 2026.pdf".into()));
        for bad in ["", "   ", "../etc/passwd", "a\\b", "a\nb", "..", &"x".repeat(256)] {
            assert!(Filename::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Filename::parse(&"é".repeat(255)).is_ok());
    }

    /// R-MSG-6: an unsent upload is its uploader's alone; a sent one is the room's.
    #[test]
    fn r_msg_6_unsent_uploads_are_private() {
        assert!(may_download(false, true));
        assert!(!may_download(false, false));
        assert!(may_download(true, false));
    }
}
