//! The gateway speaks RFC 6455 with raw frames a library would not send (SPEC R-WS-6): a
//! client's Close is answered with a Close echoing its code, and broken frames close with the
//! RFC's codes. Plain TCP here, so every byte on the wire is the test's own.

use conclave_tests::Server;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends a WebSocket upgrade request for `path` by hand, with `then` in the same write, and
/// returns the socket and the answer's head.
async fn upgrade_request(server: &Server, path: &str, then: &[u8]) -> (TcpStream, String) {
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut socket = TcpStream::connect(&address).await.expect("connect");
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes();
    request.extend_from_slice(then);
    socket.write_all(&request).await.expect("send the upgrade");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        socket.read_exact(&mut byte).await.expect("read the answer");
        head.push(byte[0]);
    }
    (socket, String::from_utf8_lossy(&head).into_owned())
}

/// Opens `/ws` by hand and returns the socket after the 101 answer.
async fn upgrade(server: &Server) -> TcpStream {
    let (socket, head) = upgrade_request(server, "/ws", &[]).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    socket
}

/// The rest of a refused upgrade: its JSON body, read to the end of the connection.
async fn refusal_body(mut socket: TcpStream) -> serde_json::Value {
    let mut body = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut body))
        .await
        .expect("the connection ends after a refusal")
        .expect("read the body");
    serde_json::from_slice(&body).expect("a JSON error body")
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

/// R-WS-6: frames the client sends right behind its upgrade request, in the same packet, are
/// read like any other: here a ping, answered with a pong before anything else.
#[tokio::test]
async fn r_ws_6_frames_sent_with_the_upgrade_are_not_lost() {
    let server = Server::start().await;
    let (mut socket, head) = upgrade_request(&server, "/ws", &frame(0x9, b"early")).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let mut pong = [0u8; 7];
    tokio::time::timeout(Duration::from_secs(5), socket.read_exact(&mut pong))
        .await
        .expect("a pong within 5 s")
        .expect("read the pong");
    assert_eq!(&pong, b"\x8a\x05early");
}

/// R-WS-1, R-OPS-5: the gateway is at `/ws` only; an upgrade anywhere else is refused with
/// the API's error shape, and the connection ends.
#[tokio::test]
async fn r_ws_1_upgrades_elsewhere_are_refused_as_not_found() {
    let server = Server::start().await;
    let (socket, head) = upgrade_request(&server, "/api/rooms", &[]).await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let body = refusal_body(socket).await;
    assert_eq!(body["error"]["code"], "not_found", "{body}");
}

/// R-WS-1, R-OPS-5: past `CONCLAVE_MAX_CONNECTIONS` gateway connections an upgrade is refused
/// with `unavailable` and `Retry-After`; once one closes, the next is taken again.
#[tokio::test]
async fn r_ws_1_a_full_gateway_refuses_upgrades_until_one_closes() {
    let server = Server::start_with(&[("CONCLAVE_MAX_CONNECTIONS", "2")]).await;
    let mut first = upgrade(&server).await;
    let _second = upgrade(&server).await;
    let (socket, head) = upgrade_request(&server, "/ws", &[]).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.to_ascii_lowercase().contains("retry-after: 1"), "{head}");
    let body = refusal_body(socket).await;
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    // The REST API still answers meanwhile.
    server.anonymous().get("/healthz").await.expect_status(200);
    first.write_all(&frame(0x8, &1000u16.to_be_bytes())).await.expect("send close");
    assert_eq!(close_code(&mut first).await, Some(1000));
    let mut read_to_end = Vec::new();
    // Whether the server ends it first or the wait runs out, the connection is dropped next.
    tokio::time::timeout(Duration::from_secs(5), first.read_to_end(&mut read_to_end)).await.ok();
    drop(first);
    conclave_tests::eventually(Duration::from_secs(5), "a freed connection is taken again", || async {
        let (_socket, head) = upgrade_request(&server, "/ws", &[]).await;
        head.starts_with("HTTP/1.1 101")
    })
    .await;
}
