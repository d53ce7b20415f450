//! `entitle bench`: the real binary with tiny numbers produces a complete report without
//! errors, and the bulk seed writes exactly what the API would have written. Benchmarks
//! measure; these tests never look at a timing.

use entitle::bench::plan;
use entitle_domain::AppId;
use entitle_domain::datetime::Timestamp;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bench_binary_reports_every_scenario_against_its_ceilings() {
    // On PostgreSQL the bench gets a fresh database of the suite's; SQLite makes its own.
    let server = if on_postgres() {
        Some(TestServer::start().await)
    } else {
        None
    };
    let dir = tempfile::tempdir().unwrap();
    let (json, markdown) = (dir.path().join("r.json"), dir.path().join("r.md"));
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_entitle"));
    command
        .args(["bench", "--profiles", "200", "--concurrency", "4"])
        .args(["--requests-per-scenario", "40", "--storage-batches", "1,16"])
        .args(["--server-log", "warn", "--json-out"])
        .arg(&json)
        .arg("--markdown-out")
        .arg(&markdown)
        .env_remove("ENTITLE_DATABASE_URL");
    if let Some(server) = &server {
        command
            .arg("--database-url")
            .arg(match &server.database_url {
                entitle::DatabaseUrl::Postgres(url) => url.clone(),
                sqlite => sqlite.redacted(),
            });
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run entitle bench");
    assert!(
        output.status.success(),
        "entitle bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let scenarios = report["scenarios"].as_array().expect("scenarios");
    let names: Vec<&str> = scenarios
        .iter()
        .map(|s| s["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["get", "create", "set-transaction", "delete"]);
    for scenario in scenarios {
        assert_eq!(scenario["errors"], 0, "{scenario}");
        assert_eq!(scenario["requests"], 40, "{scenario}");
        assert!(scenario["per_second"].as_f64().unwrap() > 0.0);
        assert!(scenario["latency_ms"]["p999"].as_f64().is_some());
        assert!(scenario["ratio_to_http_ceiling"].as_f64().is_some());
        assert!(scenario["server"]["peak_rss_bytes"].as_u64().unwrap() > 0);
    }
    assert_eq!(report["ceilings"]["http"].as_array().unwrap().len(), 4);
    assert_eq!(report["settings"]["requests_per_scenario"], 40);
    assert!(report["machine"]["nproc"].as_u64().unwrap() >= 1);
    let errors = &report["targets"][0];
    assert_eq!(
        (&errors["target"], &errors["met"]),
        (&"errors".into(), &true.into())
    );
    if server.is_some() {
        // PostgreSQL's ceiling is its Store in-process; DELETE is judged against it.
        let store = &report["ceilings"]["store"];
        assert!(
            store["deletes_per_second"].as_f64().unwrap() > 0.0,
            "{store}"
        );
        assert!(scenarios[3]["ratio_to_storage_ceiling"].as_f64().is_some());
    } else {
        assert_eq!(report["backend"], "sqlite");
        let storage = &report["ceilings"]["storage"];
        let batches: Vec<u64> = storage["deletes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|run| run["batch"].as_u64().unwrap())
            .collect();
        assert_eq!(batches, [1, 16]);
        assert!(
            storage["deletes"][0]["wal_frames_per_delete"]
                .as_f64()
                .unwrap()
                > 0.0
        );
        assert!(storage["gets"]["per_second"].as_f64().unwrap() > 0.0);
        assert!(scenarios[3]["ratio_to_storage_ceiling"].as_f64().is_some());
    }
    let markdown = std::fs::read_to_string(&markdown).unwrap();
    for title in [
        "GET profile",
        "POST create",
        "POST set-transaction",
        "DELETE profile",
    ] {
        assert!(markdown.contains(title), "{markdown}");
    }
}

/// `entitle bench` as a child process: whether it succeeded, and its standard error.
async fn run_bench(args: Vec<String>) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_entitle"));
    command
        .arg("bench")
        .args(args)
        .args(["--concurrency", "4", "--server-log", "warn"])
        .env_remove("ENTITLE_DATABASE_URL");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run entitle bench");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| (*arg).to_owned()).collect()
}

/// `--seeded-from`: a run on a copy of what an earlier run seeded, without seeding; the
/// earlier file is left as it was, so it serves any number of runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_can_start_from_a_copy_of_an_earlier_seeding() {
    if on_postgres() {
        return; // a SQLite file is what is copied
    }
    let dir = tempfile::tempdir().unwrap();
    let seeded = dir.path().join("seeded.db");
    let small = strings(&["--requests-per-scenario", "20", "--no-storage-ceiling"]);
    let mut first = strings(&["--profiles", "60", "--scenarios", "get"]);
    first.extend(small.clone());
    first.push(format!("--database-url=sqlite://{}", seeded.display()));
    let (ok, stderr) = run_bench(first).await;
    assert!(ok, "{stderr}");

    for round in 0..2 {
        let json = dir.path().join(format!("reused-{round}.json"));
        let mut again = strings(&["--profiles", "60", "--scenarios", "get,delete"]);
        again.extend(small.clone());
        again.push(format!("--seeded-from={}", seeded.display()));
        again.push(format!("--json-out={}", json.display()));
        let (ok, stderr) = run_bench(again).await;
        assert!(ok, "round {round}: {stderr}");
        assert!(!stderr.contains("seeding"), "{stderr}");
        let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(report["seed"]["copied_from"], seeded.display().to_string());
        for scenario in report["scenarios"].as_array().unwrap() {
            assert_eq!(scenario["errors"], 0, "{scenario}");
            assert_eq!(scenario["requests"], 20, "{scenario}");
        }
    }

    // A wrong count, a missing file, or a database URL besides: refused, saying why.
    for (args, why) in [
        (vec!["--profiles", "59"], "more than 59"),
        (vec!["--profiles", "61"], "profile 60 is missing"),
    ] {
        let mut wrong = strings(&args);
        wrong.extend(small.clone());
        wrong.push(format!("--seeded-from={}", seeded.display()));
        let (ok, stderr) = run_bench(wrong).await;
        assert!(!ok && stderr.contains(why), "{args:?}: {stderr}");
    }
    let mut missing = strings(&["--profiles", "60"]);
    missing.push(format!(
        "--seeded-from={}",
        dir.path().join("none.db").display()
    ));
    let (ok, stderr) = run_bench(missing).await;
    assert!(!ok && stderr.contains("no such database file"), "{stderr}");
    let mut both = strings(&["--profiles", "60"]);
    both.push(format!("--seeded-from={}", seeded.display()));
    both.push(format!(
        "--database-url=sqlite://{}",
        dir.path().join("other.db").display()
    ));
    let (ok, stderr) = run_bench(both).await;
    assert!(!ok && stderr.contains("give no --database-url"), "{stderr}");

    // A file whose profiles are not what this bench seeds (here the last one renewed once
    // more, as an older bench's chains had more events): refused, not measured.
    let url = entitle::DatabaseUrl::Sqlite(seeded.clone());
    let backend = entitle::Backend::open(&url).await.unwrap();
    let store = backend.store();
    let app = store.list_apps().await.unwrap()[0].app_id;
    let now = Timestamp::now();
    let last = entitle_domain::resolve::ProfileRef::CustomerUserId(
        entitle_domain::CustomerUserId::parse(&plan::customer_user_id(59)).unwrap(),
    );
    let renewal = plan::transaction(59, plan::SEEDED_TRANSACTIONS, now, now);
    store
        .set_transaction(app, last, renewal, now)
        .await
        .unwrap();
    backend.close().await;
    let mut reshaped = strings(&["--profiles", "60"]);
    reshaped.extend(small.clone());
    reshaped.push(format!("--seeded-from={}", seeded.display()));
    let (ok, stderr) = run_bench(reshaped).await;
    assert!(!ok && stderr.contains("seed it again"), "{stderr}");
}

/// `--larger-seeded-from`: the deletes also run on a larger database, taking turns round by
/// round, and the report sets the two p50s side by side against the 1.25× target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_can_be_compared_with_a_larger_database_in_the_same_run() {
    if on_postgres() {
        return; // SQLite files are what is compared
    }
    let dir = tempfile::tempdir().unwrap();
    let seeded = |profiles: u64| {
        let path = dir.path().join(format!("seeded-{profiles}.db"));
        let mut args = strings(&["--scenarios", "get", "--no-storage-ceiling"]);
        args.extend(strings(&["--requests-per-scenario", "5"]));
        args.push(format!("--profiles={profiles}"));
        args.push(format!("--database-url=sqlite://{}", path.display()));
        (path, args)
    };
    let (small, small_args) = seeded(40);
    let (larger, larger_args) = seeded(90);
    for args in [small_args, larger_args] {
        let (ok, stderr) = run_bench(args).await;
        assert!(ok, "{stderr}");
    }
    let larger_before = std::fs::read(&larger).unwrap();

    let json = dir.path().join("pair.json");
    let mut pair = strings(&["--profiles", "40", "--scenarios", "get,delete"]);
    pair.extend(strings(&[
        "--requests-per-scenario",
        "20",
        "--no-storage-ceiling",
    ]));
    pair.extend(strings(&["--larger-profiles", "90"]));
    pair.push(format!("--seeded-from={}", small.display()));
    pair.push(format!("--larger-seeded-from={}", larger.display()));
    pair.push(format!("--json-out={}", json.display()));
    let (ok, stderr) = run_bench(pair.clone()).await;
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let size_pair = &report["size_pair"];
    assert_eq!(size_pair["profiles"], 40);
    assert_eq!(size_pair["larger_profiles"], 90);
    assert_eq!(size_pair["requests"], 20, "{size_pair}");
    assert_eq!(size_pair["rounds"], 20, "{size_pair}");
    assert_eq!(size_pair["errors"], 0, "{size_pair}");
    let (p50, larger_p50) = (
        size_pair["p50_ms"].as_f64().unwrap(),
        size_pair["larger_p50_ms"].as_f64().unwrap(),
    );
    let ratio = size_pair["p50_ratio"].as_f64().unwrap();
    assert!((ratio - larger_p50 / p50).abs() < 1e-9, "{size_pair}");
    assert!(size_pair["larger_peak_rss_bytes"].as_u64().unwrap() > 0);
    let target = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target"] == "delete p50 at 90 profiles ≤ 1.25 × p50 at 40")
        .expect("the size target is judged");
    assert_eq!(target["met"], ratio <= 1.25, "{target}");
    // The deletes ran on a copy: the larger file is as it was.
    assert!(std::fs::read(&larger).unwrap() == larger_before);

    // Without the delete scenario there is nothing to compare: refused, saying why.
    let without: Vec<String> = pair
        .iter()
        .map(|arg| arg.replace("get,delete", "get"))
        .collect();
    let (ok, stderr) = run_bench(without).await;
    assert!(!ok && stderr.contains("compares deletes"), "{stderr}");
}

/// Replaces what differs between two otherwise equal profiles: ids and what derives from them
/// (`segment_hash`), the response's clock (`timestamp`), and instants within an hour of now
/// (creation and event times; the transactions' dates are weeks away).
fn normalized(value: &Value) -> Value {
    let now = Timestamp::now().unix_micros();
    match value {
        Value::String(text) if uuid::Uuid::parse_str(text).is_ok() => "[id]".into(),
        Value::String(text)
            if Timestamp::parse(text)
                .is_some_and(|at| (at.unix_micros() - now).abs() < 3_600_000_000) =>
        {
            "[now]".into()
        }
        Value::Array(items) => items.iter().map(normalized).collect(),
        Value::Object(fields) => fields
            .iter()
            .map(|(key, value)| match key.as_str() {
                "segment_hash" | "timestamp" => (key.clone(), "[varies]".into()),
                _ => (key.clone(), normalized(value)),
            })
            .collect(),
        other => other.clone(),
    }
}

#[tokio::test]
async fn a_seeded_profile_is_what_the_api_would_have_made() {
    let server = TestServer::start().await;
    let (api_app, api_key) = server.another_app("built-over-http").await;
    let anchor = Timestamp::now();
    let seeded_app = AppId::parse(&server.app_id).unwrap();
    entitle::bench::seed::seed(&server.database_url, seeded_app, 2, anchor)
        .await
        .expect("seed");

    // The same profile, built through the API in another app from the bench's wire bodies.
    let cuid = plan::customer_user_id(1);
    let over_http = |method: Method, path: &str| {
        server
            .request_as(&api_key, method, path)
            .header("adapty-customer-user-id", &cuid)
    };
    let (status, body) = send(over_http(Method::POST, PROFILE).json(&plan::create_body(1))).await;
    assert_eq!(status, 200, "{body}");
    for number in 0..plan::SEEDED_TRANSACTIONS {
        let transaction = plan::transaction_body(1, number, anchor, anchor);
        let (status, body) =
            send(over_http(Method::POST, SET_TRANSACTION).json(&transaction)).await;
        assert_eq!(status, 200, "{body}");
    }

    let (status, built) = send(over_http(Method::GET, PROFILE)).await;
    assert_eq!(status, 200, "{built}");
    let (status, seeded) = send(server.profile(Method::GET, &cuid)).await;
    assert_eq!(status, 200, "{seeded}");
    assert_eq!(normalized(&seeded), normalized(&built));
    assert_eq!(seeded["data"]["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(
        seeded["data"]["access_levels"][0]["access_level_id"],
        "premium"
    );

    // And the same events, in the same order, with the same payloads.
    let feed = |app: String, profile: &Value| {
        let path = format!(
            "/admin/v1/apps/{app}/events?limit=500&profile_id={}",
            profile["data"]["profile_id"].as_str().unwrap()
        );
        server.admin(Method::GET, &path)
    };
    let (_, seeded_events) = send(feed(server.app_id.clone(), &seeded)).await;
    let (_, built_events) = send(feed(api_app, &built)).await;
    let seeded_events = seeded_events["data"].as_array().expect("events").clone();
    assert_eq!(
        seeded_events.len(),
        plan::SEEDED_EVENTS,
        "trial started and converted, renewed, billing issue, grace period"
    );
    assert_eq!(
        normalized(&Value::Array(seeded_events)),
        normalized(&built_events["data"])
    );
}
