//! Abuse: slow clients holding connections open do not starve others, a request that takes too
//! long is cut off with the envelope, and webhooks never reach internal addresses or follow
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

    // A body that never finishes is answered 503 `request_timeout` once the deadline passes.
    let mut slow = TcpStream::connect(server.address).await.unwrap();
    let head = format!(
        "PATCH /api/v2/server-side-api/profile/ HTTP/1.1\r\nHost: x\r\nAuthorization: Api-Key {}\r\nadapty-customer-user-id: patient\r\nContent-Length: 100\r\n\r\n{{",
        server.key
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        use tokio::io::AsyncReadExt;
        let mut buffer = [0u8; 4096];
        loop {
            let n = slow.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to a stalled body");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        text.contains("\"error_code\":\"request_timeout\""),
        "{text}"
    );
    drop(stalled);
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
