//! One DELETE per user, with the retries a well-behaved client makes: it waits out 429s as
//! `Retry-After` asks, for as long as the server keeps asking, and retries server errors and
//! connection failures with backoff, up to [`MAX_TRIES`] times.

use std::time::Duration;

use anyhow::Context;
use reqwest::StatusCode;
use reqwest::header::{HeaderName, HeaderValue};

use super::results::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IdKind {
    CustomerUserId,
    ProfileId,
}

pub struct DeleteClient {
    http: reqwest::Client,
    endpoint: String,
    authorization: HeaderValue,
    header: HeaderName,
}

const PROFILE_PATH: &str = "/api/v2/server-side-api/profile/";
/// Attempts per user that failed for a reason other than the rate limit.
const MAX_TRIES: u32 = 8;

impl DeleteClient {
    pub fn new(base_url: &str, api_key: &str, by: IdKind) -> anyhow::Result<Self> {
        let base = base_url.trim_end_matches('/');
        let base = base
            .strip_suffix(PROFILE_PATH.trim_end_matches('/'))
            .unwrap_or(base);
        anyhow::ensure!(
            base.starts_with("http://") || base.starts_with("https://"),
            "--url must be an http:// or https:// URL"
        );
        let mut authorization = HeaderValue::from_str(&format!("Api-Key {api_key}"))
            .context("--api-key contains characters a header cannot carry")?;
        authorization.set_sensitive(true);
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(256)
                .build()?,
            endpoint: format!("{base}{PROFILE_PATH}"),
            authorization,
            header: HeaderName::from_static(match by {
                IdKind::CustomerUserId => "adapty-customer-user-id",
                IdKind::ProfileId => "adapty-profile-id",
            }),
        })
    }

    pub async fn delete(&self, id: &str) -> Outcome {
        let Ok(value) = HeaderValue::from_bytes(id.as_bytes()) else {
            return Outcome::Failed {
                status: None,
                error: "the id contains characters a header cannot carry".into(),
            };
        };
        let mut backoff = Duration::from_millis(200);
        let mut last = Outcome::Failed {
            status: None,
            error: "not attempted".into(),
        };
        let mut tries = 0;
        while tries < MAX_TRIES {
            let sent = self
                .http
                .delete(&self.endpoint)
                .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
                .header(self.header.clone(), value.clone())
                .send()
                .await;
            let wait = match sent {
                Ok(response) => match response.status() {
                    StatusCode::NO_CONTENT | StatusCode::OK => return Outcome::Deleted,
                    StatusCode::NOT_FOUND => return Outcome::NotFound,
                    StatusCode::TOO_MANY_REQUESTS => {
                        let retry_after = response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<u64>().ok())
                            .map(Duration::from_secs);
                        // Not a failure: the server says when to come back. Many workers
                        // told the same moment would all come back at once and be turned away
                        // again together, so each adds a share of the wait at random.
                        let wait = retry_after.unwrap_or_else(|| {
                            let wait = backoff;
                            backoff = (backoff * 2).min(Duration::from_secs(10));
                            wait
                        });
                        tokio::time::sleep(wait + wait.mul_f64(rand::random::<f64>())).await;
                        continue;
                    }
                    status if status.is_server_error() => {
                        last = Outcome::Failed {
                            status: Some(status.as_u16()),
                            error: "server error".into(),
                        };
                        backoff
                    }
                    status => {
                        let body = response.text().await.unwrap_or_default();
                        return Outcome::Failed {
                            status: Some(status.as_u16()),
                            error: error_code(&body),
                        };
                    }
                },
                Err(error) => {
                    last = Outcome::Failed {
                        status: None,
                        error: if error.is_timeout() {
                            "timed out".into()
                        } else {
                            "connection failed".into()
                        },
                    };
                    backoff
                }
            };
            tries += 1;
            if tries < MAX_TRIES {
                tokio::time::sleep(wait).await;
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
        last
    }
}

/// The `error_code` of an error envelope, or the status line when there is none.
fn error_code(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error_code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unexpected answer".into())
}
