//! The incoming side of one gateway connection: WebSocket frames read from the socket and
//! decoded with actix-http's codec, continuations joined into one message, text checked as
//! UTF-8 (RFC 6455; SPEC R-WS-6). An idle connection holds no read buffer: one is taken only
//! while bytes are waiting to be decoded.

use actix_http::ws::{CloseCode, CloseReason};
use actix_http::ws::{Codec, Frame, Item, ProtocolError};
use actix_web::web::{Bytes, BytesMut};
use bytestring::ByteString;
use std::io::ErrorKind;
use tokio::net::tcp::OwnedReadHalf;
use tokio_util::codec::Decoder;

/// How much is read from the socket at a time.
const READ_CHUNK: usize = 4096;

/// A whole message from the client.
#[derive(Debug)]
pub enum Incoming {
    Text(ByteString),
    Binary,
    Ping(Bytes),
    Pong,
    Close(Option<CloseReason>),
}

/// Why the connection cannot go on, with the close code RFC 6455 gives for it.
#[derive(Debug, thiserror::Error)]
pub enum Broken {
    #[error("a frame or message over {0} bytes")]
    TooLarge(usize),
    #[error("a text message that is not UTF-8")]
    InvalidUtf8,
    #[error("{0}")]
    Protocol(ProtocolError),
    #[error("the connection failed: {0}")]
    Io(String),
}

impl Broken {
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::TooLarge(_) => CloseCode::Size,
            Self::InvalidUtf8 => CloseCode::Invalid,
            Self::Protocol(_) | Self::Io(_) => CloseCode::Protocol,
        }
    }
}

/// A message being received in several frames.
struct Partial {
    text: bool,
    bytes: BytesMut,
}

/// Incoming messages of one connection.
pub struct Inbound {
    socket: OwnedReadHalf,
    buffer: BytesMut,
    codec: Codec,
    partial: Option<Partial>,
    max_message: usize,
}

impl Inbound {
    /// Frames and joined messages larger than `max_message` bytes break the connection.
    /// `already_read`: what arrived after the upgrade request, before the gateway took over.
    pub fn new(socket: OwnedReadHalf, already_read: BytesMut, max_message: usize) -> Self {
        let buffer = if already_read.is_empty() { BytesMut::new() } else { already_read };
        Self { socket, buffer, codec: Codec::new().max_size(max_message), partial: None, max_message }
    }

    /// The next message; `None` when the client's side of the connection has ended. Safe to
    /// cancel: bytes are only taken in once they have arrived.
    pub async fn next(&mut self) -> Option<Result<Incoming, Broken>> {
        loop {
            match self.codec.decode(&mut self.buffer) {
                Ok(Some(frame)) => match self.message(frame) {
                    Ok(Some(message)) => return Some(Ok(message)),
                    Ok(None) => continue,
                    Err(broken) => return Some(Err(broken)),
                },
                Ok(None) => {}
                Err(ProtocolError::Overflow) => return Some(Err(Broken::TooLarge(self.max_message))),
                Err(error) => return Some(Err(Broken::Protocol(error))),
            }
            if self.buffer.is_empty() {
                // Give the buffer back while waiting: most connections are idle most of the time.
                self.buffer = BytesMut::new();
            }
            if let Err(error) = self.socket.readable().await {
                return Some(Err(Broken::Io(error.to_string())));
            }
            self.buffer.reserve(READ_CHUNK);
            match self.socket.try_read_buf(&mut self.buffer) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(error) => return Some(Err(Broken::Io(error.to_string()))),
            }
        }
    }

    /// A decoded frame as a message, once it is whole.
    fn message(&mut self, frame: Frame) -> Result<Option<Incoming>, Broken> {
        let whole = match frame {
            Frame::Text(bytes) => return text(bytes).map(Some),
            Frame::Binary(_) => return Ok(Some(Incoming::Binary)),
            Frame::Ping(bytes) => return Ok(Some(Incoming::Ping(bytes))),
            Frame::Pong(_) => return Ok(Some(Incoming::Pong)),
            Frame::Close(reason) => return Ok(Some(Incoming::Close(reason))),
            Frame::Continuation(item) => item,
        };
        match (whole, self.partial.as_mut()) {
            (Item::FirstText(bytes), None) => self.start(true, &bytes),
            (Item::FirstBinary(bytes), None) => self.start(false, &bytes),
            (Item::Continue(bytes), Some(_)) => self.extend(&bytes).map(|_| None),
            (Item::Last(bytes), Some(_)) => {
                self.extend(&bytes)?;
                match self.partial.take() {
                    Some(Partial { text: true, bytes }) => text(bytes.freeze()).map(Some),
                    _ => Ok(Some(Incoming::Binary)),
                }
            }
            (Item::FirstText(_) | Item::FirstBinary(_), Some(_)) => {
                Err(Broken::Protocol(ProtocolError::ContinuationStarted))
            }
            (Item::Continue(_) | Item::Last(_), None) => Err(Broken::Protocol(ProtocolError::ContinuationNotStarted)),
        }
    }

    fn start(&mut self, text: bool, bytes: &Bytes) -> Result<Option<Incoming>, Broken> {
        self.partial = Some(Partial { text, bytes: BytesMut::new() });
        self.extend(bytes).map(|_| None)
    }

    fn extend(&mut self, bytes: &Bytes) -> Result<(), Broken> {
        let Some(partial) = self.partial.as_mut() else {
            return Err(Broken::Protocol(ProtocolError::ContinuationNotStarted));
        };
        if partial.bytes.len() + bytes.len() > self.max_message {
            return Err(Broken::TooLarge(self.max_message));
        }
        partial.bytes.extend_from_slice(bytes);
        Ok(())
    }
}

fn text(bytes: Bytes) -> Result<Incoming, Broken> {
    ByteString::try_from(bytes).map(Incoming::Text).map_err(|_| Broken::InvalidUtf8)
}
