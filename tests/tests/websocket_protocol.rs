//! The gateway speaks RFC 6455 with raw frames a library would not send (SPEC R-WS-6): a
//! client's Close is answered with a Close echoing its code, and broken frames close with the
//! RFC's codes. Plain TCP here, so every byte on the wire is the test's own.

use conclave_tests::Server;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opens `/ws` by hand and returns the socket after the 101 answer.
async fn upgrade(server: &Server) -> TcpStream {
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut socket = TcpStream::connect(&address).await.expect("connect");
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.expect("send the upgrade");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        socket.read_exact(&mut byte).await.expect("read the answer");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    socket
}

/// A masked client frame (the mask is zero, so the payload goes as it is).
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut bytes = vec![0x80 | opcode, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    bytes.extend_from_slice(payload);
    bytes
}

/// Reads server frames until a Close and returns its status code (`None`: the connection
/// ended without one).
async fn close_code(socket: &mut TcpStream) -> Option<u16> {
    let read = async {
        loop {
            let mut header = [0u8; 2];
            socket.read_exact(&mut header).await.ok()?;
            let length = match header[1] & 0x7f {
                126 => {
                    let mut extended = [0u8; 2];
                    socket.read_exact(&mut extended).await.ok()?;
                    usize::from(u16::from_be_bytes(extended))
                }
                127 => {
                    let mut extended = [0u8; 8];
                    socket.read_exact(&mut extended).await.ok()?;
                    usize::try_from(u64::from_be_bytes(extended)).ok()?
                }
                short => usize::from(short),
            };
            let mut payload = vec![0u8; length];
            socket.read_exact(&mut payload).await.ok()?;
            if header[0] & 0x0f == 0x8 {
                return Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]));
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read).await.expect("an answer within 5 s")
}

/// R-WS-6: a client's Close is answered with a Close carrying the same code, before and after
/// authentication's first frame alike.
#[tokio::test]
async fn r_ws_6_a_close_is_answered_with_a_close() {
    let server = Server::start().await;
    for code in [1000u16, 4001] {
        let mut socket = upgrade(&server).await;
        socket.write_all(&frame(0x8, &code.to_be_bytes())).await.expect("send close");
        assert_eq!(close_code(&mut socket).await, Some(code));
    }
}

/// R-WS-6: a text frame that is not UTF-8 closes with 1007, a frame with an unknown opcode with
/// 1002; the server goes on serving others.
#[tokio::test]
async fn r_ws_6_broken_frames_close_with_the_rfc_codes() {
    let server = Server::start().await;
    let cases: [(u8, &[u8], u16); 2] = [(0x1, &[0xff, 0xfe, 0xfd], 1007), (0x3, b"?", 1002)];
    for (opcode, payload, code) in cases {
        let mut socket = upgrade(&server).await;
        socket.write_all(&frame(opcode, payload)).await.expect("send the frame");
        assert_eq!(close_code(&mut socket).await, Some(code), "opcode {opcode:#x}");
    }
    let alice = server.user("alice").await;
    let (mut socket, _) = server.connect(&alice).await;
    socket.send(serde_json::json!({"type": "ping"})).await;
    assert_eq!(socket.next().await["type"], "pong");
}
