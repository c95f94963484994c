//! Avatars (SPEC R-ACC-8): a PNG, JPEG or WebP picture, checked by its bytes, decoded within
//! bounds and re-encoded as a small square. Re-encoding drops whatever else the file carried
//! (EXIF and GPS metadata, trailing data, anything a browser might read as another type), so
//! what is stored and served is only pixels. Stored sealed under the server's key (R-SEC-2).

use super::AppState;
use super::accounts;
use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use chrono::Utc;
use conclave_protocol::{AVATAR_SIDE, ErrorCode, MAX_AVATAR_BYTES};
use conclave_store::{AvatarRecord, NewAvatar, UserRecord};
use image::imageops::FilterType;
use image::{ImageFormat, ImageReader, Limits};
use std::future::Future;
use std::io::Cursor;

/// The largest picture decoded, in pixels a side: bigger ones are refused before decoding.
const MAX_SIDE: u32 = 8192;
/// The most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 128 * 1024 * 1024;
/// JPEG quality of stored avatars (opaque pictures); ones with transparency are PNG.
const JPEG_QUALITY: u8 = 85;

/// Why a picture is not taken as an avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A declared type other than PNG, JPEG or WebP, or bytes of another type than declared.
    Type(String),
    /// Bytes of the declared type that do not decode within bounds.
    Unreadable(String),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Type(why) => ApiError::new(ErrorCode::UnsupportedMediaType, why),
            Refusal::Unreadable(why) => ApiError::field("avatar", why),
        }
    }
}

/// The picture in `bytes`, declared as `content_type`, as it is stored: a square of
/// [`AVATAR_SIDE`] pixels cut from its middle, PNG when it has transparency, JPEG otherwise.
pub fn normalize(content_type: &str, bytes: &[u8]) -> Result<NewAvatar, Refusal> {
    let declared = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let format = match declared.as_str() {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/webp" => ImageFormat::WebP,
        _ => return Err(Refusal::Type("an avatar is a PNG, JPEG or WebP image".into())),
    };
    if image::guess_format(bytes).ok() != Some(format) {
        return Err(Refusal::Type(format!("the file is not a {declared} image")));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| Refusal::Unreadable(format!("the image could not be read: {e}")))?;
    let square = picture.resize_to_fill(AVATAR_SIDE, AVATAR_SIDE, FilterType::Lanczos3);
    let mut out = Cursor::new(Vec::new());
    let content_type = if square.color().has_alpha() {
        square.to_rgba8().write_to(&mut out, ImageFormat::Png).map(|()| "image/png")
    } else {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        square.to_rgb8().write_with_encoder(encoder).map(|()| "image/jpeg")
    }
    .map_err(|e| Refusal::Unreadable(format!("the image could not be re-encoded: {e}")))?;
    Ok(NewAvatar { content_type: content_type.to_owned(), content: out.into_inner() })
}

/// Sets the caller's avatar from the bytes `content` reads (refused past
/// [`MAX_AVATAR_BYTES`]), declared as `content_type`.
pub async fn set(
    state: &AppState,
    auth: &AuthUser,
    content_type: &str,
    content: impl Future<Output = ApiResult<Vec<u8>>>,
) -> ApiResult<UserRecord> {
    let content = content.await?;
    if content.len() > MAX_AVATAR_BYTES {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge, too_large()));
    }
    let content_type = content_type.to_owned();
    // Decoding and resizing take CPU time: off the async threads.
    let avatar =
        tokio::task::spawn_blocking(move || normalize(&content_type, &content)).await.map_err(ApiError::internal)??;
    Ok(state.store.set_avatar(&auth.id, avatar, Utc::now()).await?)
}

/// What a refused avatar upload says about its size.
pub fn too_large() -> String {
    format!(
        "an avatar is at most {}",
        conclave_protocol::size_label(u64::try_from(MAX_AVATAR_BYTES).unwrap_or(u64::MAX))
    )
}

/// Removes the caller's avatar; initials show again.
pub async fn remove(state: &AppState, auth: &AuthUser) -> ApiResult<UserRecord> {
    Ok(state.store.remove_avatar(&auth.id).await?)
}

/// The avatar of the user named `username`, with their record.
pub async fn of(state: &AppState, username: &str) -> ApiResult<(UserRecord, AvatarRecord)> {
    let user = accounts::profile(state, username).await?;
    let avatar = state
        .store
        .avatar(&user.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("{} has no avatar", user.username)))?;
    Ok((user, avatar))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, Rgba};

    fn encoded(picture: image::DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, format).expect("encodes");
        out.into_inner()
    }

    fn photo(width: u32, height: u32) -> image::DynamicImage {
        image::DynamicImage::ImageRgb8(ImageBuffer::from_fn(width, height, |x, y| {
            Rgb([u8::try_from(x % 256).unwrap_or(0), u8::try_from(y % 256).unwrap_or(0), 90])
        }))
    }

    /// R-ACC-8: each accepted type becomes a square of the stored size; transparency keeps PNG.
    #[test]
    fn pictures_become_small_squares() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
            let declared = format.to_mime_type();
            let avatar = normalize(declared, &encoded(photo(640, 300), format)).expect("taken");
            assert_eq!(avatar.content_type, "image/jpeg", "{declared}: opaque pictures are stored as JPEG");
            let stored = image::load_from_memory(&avatar.content).expect("decodes");
            assert_eq!((stored.width(), stored.height()), (AVATAR_SIDE, AVATAR_SIDE));
        }
        let clear = image::DynamicImage::ImageRgba8(ImageBuffer::from_pixel(40, 40, Rgba([1, 2, 3, 0])));
        let avatar = normalize("image/png", &encoded(clear, ImageFormat::Png)).expect("taken");
        assert_eq!(avatar.content_type, "image/png");
    }

    /// R-ACC-8: metadata does not survive: the stored bytes are a fresh encoding.
    #[test]
    fn whatever_follows_the_picture_is_dropped() {
        let mut bytes = encoded(photo(64, 64), ImageFormat::Png);
        bytes.extend_from_slice(b"<script>alert(1)</script>");
        let avatar = normalize("image/png", &bytes).expect("taken");
        assert!(!avatar.content.windows(8).any(|w| w == b"<script>"));
    }

    /// R-ACC-8, R-SEC-3: other types, bytes that lie about their type, and broken or huge
    /// pictures are refused with a reason.
    #[test]
    fn other_types_lies_and_broken_pictures_are_refused() {
        let png = encoded(photo(16, 16), ImageFormat::Png);
        assert!(matches!(normalize("image/gif", &png), Err(Refusal::Type(_))));
        assert!(matches!(normalize("text/html", b"<html>"), Err(Refusal::Type(_))));
        assert!(matches!(normalize("image/jpeg", &png), Err(Refusal::Type(_))), "PNG bytes declared as JPEG");
        assert!(matches!(normalize("image/png", b"not an image"), Err(Refusal::Type(_))));
        assert!(matches!(normalize("image/png", &png[..png.len() / 2]), Err(Refusal::Unreadable(_))), "cut short");
        // A PNG header claiming 100,000 pixels a side: refused before any pixel is decoded.
        let mut huge = png.clone();
        huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(matches!(normalize("image/png", &huge), Err(Refusal::Unreadable(_))));
    }
}
