//! Abuse: slow clients holding connections open do not starve others, a body that does not
//! arrive in time is cut off with the envelope, one declared far too large is refused unread, and webhooks never reach internal addresses or follow
//! redirects unless allowed (issue 7, points 5–6).

use std::time::{Duration, Instant};

use reqwest::Method;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::*;
use crate::receiver::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_starve_others() {
    let server =
        TestServer::start_with(|config| config.request_timeout = Duration::from_secs(1)).await;
    server.create_profile("patient").await;
    // Two hundred connections that send half a request and then nothing.
    let mut stalled = Vec::new();
    for i in 0..200 {
        let mut stream = TcpStream::connect(server.address).await.unwrap();
        let partial = if i % 2 == 0 {
            "GET /api/v2/server-side-api/profile/ HTTP/1.1\r\nHost: x\r\n".to_owned()
        } else {
            format!(
                "PATCH /api/v2/server-side-api/profile/ HTTP/1.1\r\nHost: x\r\nAuthorization: Api-Key {}\r\nadapty-customer-user-id: patient\r\nContent-Length: 100\r\n\r\n{{\"a\"",
                server.key
            )
        };
        stream.write_all(partial.as_bytes()).await.unwrap();
        stalled.push(stream);
    }
    let started = Instant::now();
    for _ in 0..20 {
        let (status, _) = send(server.profile(Method::GET, "patient")).await;
        assert_eq!(status, 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "others were starved: {:?}",
        started.elapsed()
    );

    // A body that never finishes is the client's lateness: 408 `request_timeout` once the
    // deadline passes, and the connection closed (the rest of the body may still come).
    let head = format!(
        "PATCH /api/v2/server-side-api/profile/ HTTP/1.1\r\nHost: x\r\nAuthorization: Api-Key {}\r\nadapty-customer-user-id: patient\r\nContent-Length: 100\r\n\r\n{{",
        server.key
    );
    let text = raw_exchange(server.address, &head).await;
    assert!(text.starts_with("http/1.1 408"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    assert!(
        text.contains("\"error_code\":\"request_timeout\""),
        "{text}"
    );
    drop(stalled);
}

/// Sends `request` as raw bytes and reads until the server closes the connection (or 5 s
/// pass), returning what came back with its head lower-cased.
async fn raw_exchange(address: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    read_to_close(stream).await
}

/// A connection whose client began a request head and sent nothing more.
async fn stalled_connection(address: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /api/v2/server-side-api/profile/ HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    stream
}

/// What the server sends on `stream` until it closes it (or 5 s pass), head lower-cased.
async fn read_to_close(mut stream: TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the connection was not closed after the answer"
    );
    let text = String::from_utf8_lossy(&answer).into_owned();
    match text.split_once("\r\n\r\n") {
        Some((head, body)) => format!("{}\r\n\r\n{body}", head.to_ascii_lowercase()),
        None => text,
    }
}

#[tokio::test]
async fn a_body_declared_far_over_the_limit_is_refused_before_it_is_sent() {
    let server = TestServer::start().await;
    server.create_profile("big").await;
    // Only the head: a server that waited for the 5 MB would answer nothing for 30 s.
    let head = format!(
        "PATCH /api/v2/server-side-api/profile/ HTTP/1.1\r\nHost: x\r\nAuthorization: Api-Key {}\r\nadapty-customer-user-id: big\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n",
        server.key
    );
    let text = raw_exchange(server.address, &head).await;
    assert!(text.starts_with("http/1.1 413"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    assert!(text.contains("request-id: "), "{text}");
    assert!(
        text.contains("\"error_code\":\"payload_too_large\""),
        "{text}"
    );
}

/// A client that began a request and never finished its head does not keep a stopping server
/// from exiting: once every request's deadline has passed, the server stops anyway.
#[tokio::test]
async fn a_stalled_client_does_not_keep_the_server_from_stopping() {
    let server = TestServer::start_with(|config| {
        config.request_timeout = Duration::from_secs(1);
        // Far past the bound below: only the shutdown grace may end the connection.
        config.idle_timeout = Duration::from_secs(3600);
    })
    .await;
    let stalled = stalled_connection(server.address).await;
    // Connections are accepted in turn: once a later one is answered, the server has this one.
    let health = reqwest::get(format!("http://{}/healthz", server.address)).await;
    assert_eq!(health.unwrap().status(), 200);
    // A generous bound: without the grace period the server waits for as long as the client.
    let stopped = tokio::time::timeout(Duration::from_secs(60), server.stop()).await;
    assert!(stopped.is_ok(), "the server did not stop");
    drop(stalled);
}

/// A connection with no request in progress is closed after the idle timeout: one whose
/// client stalled halfway through a request head (closed unanswered), and one kept alive after
/// its answer. Without a timer either would hold its socket for as long as the client stays.
#[tokio::test]
async fn connections_with_no_request_in_progress_are_closed_after_the_idle_timeout() {
    let server =
        TestServer::start_with(|config| config.idle_timeout = Duration::from_secs(1)).await;
    let stalled = stalled_connection(server.address).await;
    let mut kept_alive = TcpStream::connect(server.address).await.unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // `read_to_close` fails unless the server closes the connection within 5 s.
    assert_eq!(read_to_close(stalled).await, "");
    let answered = read_to_close(kept_alive).await;
    assert!(answered.starts_with("http/1.1 200"), "{answered}");
}

/// The idle timeout counts from the last request, not from the connection's start: requests
/// spaced within it keep one connection serving well past it.
#[tokio::test]
async fn a_connection_in_use_outlives_the_idle_timeout() {
    use tokio::io::AsyncReadExt;
    let server =
        TestServer::start_with(|config| config.idle_timeout = Duration::from_secs(2)).await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let started = Instant::now();
    let mut answers = 0;
    while started.elapsed() < Duration::from_secs(4) {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buffer = [0u8; 1024];
        let read = stream.read(&mut buffer).await.unwrap();
        let text = String::from_utf8_lossy(&buffer[..read]).to_ascii_lowercase();
        assert!(
            text.starts_with("http/1.1 200"),
            "answer {answers}: {text:?}"
        );
        answers += 1;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(answers >= 5, "{answers}");
}

/// A body that is not valid HTTP (a malformed chunk, or cut short by the client closing its
/// side) is a client mistake: 400 `parse_error` saying so, not 413.
#[tokio::test]
async fn a_body_malformed_or_cut_short_is_a_parse_error() {
    let server = TestServer::start().await;
    server.create_profile("broken").await;
    let head = |framing: &str| {
        format!(
            "PATCH /api/v2/server-side-api/profile/ HTTP/1.1\r\nHost: x\r\nAuthorization: Api-Key {}\r\nadapty-customer-user-id: broken\r\nContent-Type: application/json\r\n{framing}\r\n\r\n",
            server.key
        )
    };
    let bad_chunk = head("Transfer-Encoding: chunked") + "zz\r\n{}\r\n0\r\n\r\n";
    let text = raw_exchange(server.address, &bad_chunk).await;
    assert!(text.starts_with("http/1.1 400"), "{text}");
    assert!(text.contains("\"error_code\":\"parse_error\""), "{text}");
    assert!(text.contains("malformed or cut short"), "{text}");
    assert!(text.contains("request-id: "), "{text}");

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let short = head("Content-Length: 10") + "{}";
    stream.write_all(short.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let text = read_to_close(stream).await;
    assert!(text.starts_with("http/1.1 400"), "{text}");
    assert!(text.contains("\"error_code\":\"parse_error\""), "{text}");
}

#[tokio::test]
async fn webhooks_never_reach_internal_addresses_unless_allowed() {
    let receiver = Receiver::ok().await;
    // The production default: private targets refused.
    let server = TestServer::start_with(|config| {
        let worker = config.worker.as_mut().unwrap();
        worker.targets.allow_private = false;
        worker.retry.max_retries = 0;
    })
    .await;
    let localhost = receiver.url.replace("127.0.0.1", "localhost");
    for url in [&receiver.url, &localhost] {
        let add = ["webhooks", "add", "--app", &server.app_id, "--url", url];
        server.cli(&add).await;
    }
    server.create_profile("guarded").await;
    server
        .set_transaction(
            "guarded",
            &subscription("g-1", "g-1", &days_from_now(-1), &days_from_now(30)),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let deliveries = loop {
        let feed = server.feed("").await;
        let deliveries: Vec<serde_json::Value> = feed
            .iter()
            .flat_map(|e| e["deliveries"].as_array().unwrap().clone())
            .collect();
        if deliveries.iter().all(|d| d["status"] != "pending") {
            break deliveries;
        }
        assert!(Instant::now() < deadline, "deliveries never settled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!deliveries.is_empty());
    for delivery in &deliveries {
        assert_eq!(delivery["status"], "failed");
        let error = delivery["attempts"][0]["error"]
            .as_str()
            .unwrap_or_default();
        assert!(
            error.contains("internal address")
                || error.contains("no address")
                || error.contains("request failed"),
            "{error}"
        );
    }
    assert!(
        receiver.received().is_empty(),
        "an internal address was reached"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let target = Receiver::ok().await;
    let location = target.url.clone();
    let redirector = Receiver::redirecting(&location).await;
    let server = TestServer::start().await;
    server
        .cli(&[
            "webhooks",
            "add",
            "--app",
            &server.app_id,
            "--url",
            &redirector.url,
            "--events",
            "subscription_started",
        ])
        .await;
    server.create_profile("redirected").await;
    server
        .set_transaction(
            "redirected",
            &subscription("rd-1", "rd-1", &days_from_now(-1), &days_from_now(30)),
        )
        .await;
    redirector.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        target.received().is_empty(),
        "{location} was reached through a redirect"
    );
    let feed = server.feed("event_type=subscription_started").await;
    let delivery = &feed[0]["deliveries"][0];
    assert_eq!(delivery["attempts"][0]["status_code"], 307);
    assert_eq!(
        delivery["attempts"].as_array().unwrap().len(),
        1,
        "a 3xx is an answer, not retried"
    );
}
